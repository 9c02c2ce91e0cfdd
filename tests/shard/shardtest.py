#!/usr/bin/python3
"""shardtest.py CSVREG NIST_DIR TEST - end-to-end tests of states, merge, solve,
byte ranges, threads, updates and the engine recipes (issue 4).

Each TEST builds its data in a temporary folder, runs csvreg as a user
would, and compares against a single pass (or an explicit refit) with a
stated tolerance. Exit 0 pass, 1 fail, 77 skip (ctest SKIP_RETURN_CODE).
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

CSVREG, NIST, TEST = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="shardtest.")
os.chdir(TMP)


def run(args, stdin=None, check=True, shell=False):
    p = subprocess.run(args if shell else [CSVREG] + args, input=stdin, capture_output=True,
                       shell=shell)
    if check and p.returncode != 0:
        sys.exit("FAIL: %s exited %d: %s" % (args, p.returncode, p.stderr.decode()))
    return p


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def compare(a, b, tol, what):
    """Every coefficient, SE and the main statistics of two JSON reports."""
    if a["n"] != b["n"]:
        fail("%s: n %d != %d" % (what, a["n"], b["n"]))
    worst = 0.0
    for x, y in zip(a["terms"], b["terms"]):
        for k in ("estimate", "std_error"):
            worst = max(worst, rel(x[k], y[k]))
    for k in ("residual_sd", "r_squared", "log_likelihood"):
        worst = max(worst, rel(a[k], b[k]))
    print("%s: worst relative difference %.3g (tolerance %g)" % (what, worst, tol))
    if not worst <= tol:
        fail("%s: relative difference %.3g > %g" % (what, worst, tol))


def gen(path, n, seed, quoted=False, weights=False, crlf=False):
    rnd = random.Random(seed)
    nl = "\r\n" if crlf else "\n"
    with open(path, "w", newline="") as f:
        f.write('id,"note, text",x1,x2,x3,y' + (",w" if weights else "") + nl)
        for i in range(n):
            x1, x2, x3 = rnd.gauss(0, 1), rnd.gauss(5, 2), rnd.uniform(-1e3, 1e3)
            y = 1 + 2 * x1 - 0.5 * x2 + 1e-3 * x3 + rnd.gauss(0, 0.3)
            note = "n%d" % i
            if quoted:
                note = rnd.choice(['plain', '"multi\nline ""quoted""\n text"', '"a,b\r\nc"',
                                   '', '"x\n"'])
            row = "%d,%s,%r,%r,%r,%r" % (i, note, x1, x2, x3, y)
            if weights:
                row += ",%r" % rnd.uniform(0.1, 3)
            f.write(row + nl)


def fit_json(args):
    return json.loads(run(["fit", "--format", "json"] + args).stdout)


def solve_json(states, extra=()):
    return json.loads(run(["solve", "--format", "json"] + list(extra), stdin=states).stdout)


def shards(path, k, args):
    return [run(["fit", "--emit-state", "--range", "%d/%d" % (i, k), path] + args).stdout
            for i in range(1, k + 1)]


def t_merge_order():
    """N shards merged in any order: the same state bit for bit, and the
    single pass to 1e-11, for both solvers, weighted and not."""
    gen("d.csv", 20000, 1, weights=True)
    for solver in ("qr", "normal"):
        for w in ([], ["-w", "w"]):
            args = ["-y", "y", "-x", "x1,x2,x3", "--solver", solver] + w
            one = fit_json(["d.csv"] + args)
            parts = shards("d.csv", 7, args)
            merged = set()
            for seed in range(4):
                order = parts[:]
                random.Random(seed).shuffle(order)
                merged.add(run(["merge"], stdin=b"".join(order)).stdout)
            if len(merged) != 1:
                fail("merge result depends on arrival order (%s %s)" % (solver, w))
            compare(one, solve_json(merged.pop()), 1e-11, "7 shards %s %s" % (solver, w))


def t_quoted_ranges():
    """Byte ranges on a file with quoted newlines (CRLF too) give exactly the
    single pass: every record once, none cut."""
    for crlf in (False, True):
        gen("q.csv", 3000, 2, quoted=True, crlf=crlf)
        args = ["-y", "y", "-x", "x1,x2,x3"]
        one = fit_json(["q.csv"] + args)
        size = os.path.getsize("q.csv")
        for k in (2, 5, 13, 64):
            states = b"".join(shards("q.csv", k, args))
            res = json.loads(run(["solve", "--format", "json"], stdin=run(
                ["merge", "--expect-bytes", str(size), "--expect-rows", "3000"],
                stdin=states).stdout).stdout)
            compare(one, res, 1e-11, "quoted crlf=%s, %d ranges" % (crlf, k))
        # --bytes with cut points inside quoted fields
        cuts = sorted({0, size} | {random.Random(5).randrange(size) for _ in range(9)})
        states = b"".join(run(["fit", "--emit-state", "--bytes", "%d:%d" % (a, b), "q.csv"] +
                              args).stdout for a, b in zip(cuts, cuts[1:]))
        compare(one, solve_json(run(["merge", "--expect-bytes", str(size)], stdin=states).stdout),
                1e-11, "quoted crlf=%s, --bytes at random offsets" % crlf)


def t_lost_shard():
    """A lost or duplicated shard fails --expect-bytes / --expect-rows with exit 3."""
    gen("d.csv", 5000, 3)
    size = str(os.path.getsize("d.csv"))
    parts = shards("d.csv", 4, ["-y", "y", "-x", "x1,x2"])
    for name, states in (("missing", parts[:2] + parts[3:]), ("duplicated", parts + parts[1:2])):
        p = run(["merge", "--expect-bytes", size], stdin=b"".join(states), check=False)
        if p.returncode != 3 or b"shard is " + name.encode() not in p.stderr:
            fail("%s shard: exit %d, %s" % (name, p.returncode, p.stderr))
        p = run(["merge", "--expect-rows", "5000"], stdin=b"".join(states), check=False)
        if p.returncode != 3:
            fail("%s shard: --expect-rows exit %d" % (name, p.returncode))
    run(["merge", "--expect-bytes", size, "--expect-rows", "5000"], stdin=b"".join(parts))


def t_corrupt_line():
    """An interleaved or edited line is rejected with its file and line."""
    gen("d.csv", 2000, 4)
    a, b = shards("d.csv", 2, ["-y", "y", "-x", "x1,x2"])
    bad = a[:500] + b + a[500:]  # two writers' bytes interleaved
    p = run(["merge"], stdin=b + bad, check=False)
    if p.returncode != 6 or b"<stdin>:2:" not in p.stderr or b"whole lines" not in p.stderr:
        fail("interleaved line: exit %d, %s" % (p.returncode, p.stderr))
    edited = a.replace(b'"records":', b'"records":1', 1)
    p = run(["merge"], stdin=edited, check=False)
    if p.returncode != 6 or b"checksum" not in p.stderr:
        fail("edited line: exit %d, %s" % (p.returncode, p.stderr))


def nist_powers(name):
    cert = json.load(open(os.path.join(NIST, name + ".certified.json")))
    deg = cert.get("polynomial_degree") or 0
    src = open(os.path.join(NIST, cert["csv"])).read().splitlines()
    head = src[0].split(",")
    out = name + ".csv"
    with open(out, "w") as f:
        if deg:
            x = head[1]
            f.write(",".join(["y"] + ["%s%d" % (x, k) for k in range(1, deg + 1)]) + "\n")
            for line in src[1:]:
                yv, xv = line.split(",")
                xf = float(xv)
                f.write(",".join([yv] + [repr(xf ** k) for k in range(1, deg + 1)]) + "\n")
        else:
            f.write("\n".join(src) + "\n")
    return cert, out


def lre(est, cert):
    if est == cert:
        return 15.0
    if cert == 0:
        return min(15.0, -math.log10(abs(est)))
    return min(15.0, -math.log10(abs(est - cert) / abs(cert)))


def t_nist_split():
    """NIST StRD sets split in 3 byte ranges, merged in reverse order, keep
    issue 2's coefficient floors."""
    floors = {"Norris": 11, "Pontius": 11, "NoInt1": 13, "NoInt2": 14, "Longley": 12, "Filip": 7,
              "Wampler1": 8, "Wampler2": 11, "Wampler3": 9, "Wampler4": 6, "Wampler5": 4}
    for name, floor in floors.items():
        cert, path = nist_powers(name)
        args = ["-y", cert["response"] if not cert.get("polynomial_degree") else "y"]
        if not cert["intercept"]:
            args.append("--no-intercept")
        parts = shards(path, 3, args)
        res = solve_json(b"".join(reversed(parts)))
        est = [t["estimate"] for t in res["terms"]]
        got = min(lre(e, c) for e, c in zip(est, cert["coefficients"]))
        print("%-9s 3 shards: coefficient LRE %.1f (floor %d)" % (name, got, floor))
        if got < floor:
            fail("%s: LRE %.2f < %d" % (name, got, floor))


def t_threads():
    """--threads N equals one thread to rounding, on quoted and plain files."""
    gen("q.csv", 40000, 6, quoted=True)
    args = ["q.csv", "-y", "y", "-x", "x1,x2,x3"]
    one = fit_json(args)
    for n in (2, 3, 8):
        compare(one, fit_json(args + ["--threads", str(n)]), 1e-11, "--threads %d" % n)
    # standard input: record-aligned blocks, same answer
    with open("q.csv", "rb") as f:
        res = json.loads(run(["fit", "--format", "json", "--threads", "2", "-y", "y", "-x",
                              "x1,x2,x3", "-"], stdin=f.read()).stdout)
    compare(one, res, 1e-11, "--threads 2 on stdin")


def stdin_fit(path, args, n, block):
    """`cat PATH | csvreg fit --threads N ARGS -` with CSVREG_STDIN_BLOCK (a
    test-only block size) forcing many blocks and records cut across them."""
    env = dict(os.environ, CSVREG_STDIN_BLOCK=str(block))
    return subprocess.run("cat %s | %s fit --threads %d %s -" % (path, CSVREG, n, " ".join(args)),
                          shell=True, env=env, capture_output=True)


def t_threads_stdin():
    """--threads N on standard input equals one thread, with quoted newlines,
    CRLF, a BOM and small blocks; a bad value names its exact line."""
    gen("q.csv", 30000, 11, quoted=True, crlf=True)
    data = open("q.csv", "rb").read()
    open("q.csv", "wb").write(b"\xef\xbb\xbf" + data)
    args = ["--format", "json", "-y", "y", "-x", "x1,x2,x3"]
    one = fit_json(["q.csv"] + args)
    for n in (2, 3, 8):
        for block in (1, 4096, 65536):
            p = stdin_fit("q.csv", args, n, block)
            if p.returncode != 0:
                fail("stdin --threads %d block %d: exit %d %s" % (n, block, p.returncode, p.stderr))
            compare(one, json.loads(p.stdout), 1e-11, "stdin --threads %d block %d" % (n, block))
    # no header: the width from the first record
    open("nh.csv", "wb").write(data[data.index(b"\n") + 1:])
    nh = ["--format", "json", "--no-header", "-y", "6", "-x", "3,4,5"]
    p = stdin_fit("nh.csv", nh, 3, 4096)
    compare(fit_json(["nh.csv"] + nh), json.loads(p.stdout), 1e-11, "stdin --no-header")
    # two bad values after many quoted newlines: the first in stream order is
    # reported, with the line one thread reports (counted here by hand)
    recs = data.split(b"\r\n")
    bad = [i for i in range(len(recs) * 2 // 3, len(recs)) if recs[i][:1].isdigit()
           and b'"' not in recs[i]][:2]
    for i, v in zip(bad, (b"oops", b"later")):
        f = recs[i].split(b",")
        f[-2] = v
        recs[i] = b",".join(f)
    text = b"\r\n".join(recs)
    open("bad.csv", "wb").write(text)
    line = text[:text.index(b"oops")].count(b"\n") + 1
    want = 'csvreg: <stdin>:%d: column 5 (x3): expected a number, found "oops"' % line
    single = run(["fit", "-y", "y", "-x", "x1,x2,x3", "-"], stdin=text, check=False)
    if single.returncode != 3 or want.encode() not in single.stderr:
        fail("one thread: exit %d, %s (want %s)" % (single.returncode, single.stderr, want))
    for n, block in ((2, 1), (3, 4096), (8, 65536)):
        p = stdin_fit("bad.csv", args, n, block)
        hint = ("csvreg: hint: column 'x3' held numbers in its first records; to treat it as "
                "categorical give --factor x3")
        if p.returncode != 3 or p.stderr.decode().strip() != want + "\n" + hint:
            fail("stdin --threads %d block %d: exit %d, %s (want %s)"
                 % (n, block, p.returncode, p.stderr, want))
    print("error line %d exact" % line)


def t_update():
    """fit --update equals a refit on old + new rows; --decay equals an
    explicit weighted refit (n, df, log-likelihood included)."""
    gen("all.csv", 12000, 7, weights=True)
    lines = open("all.csv").read().splitlines(True)
    open("old.csv", "w").write("".join(lines[:7001]))
    open("new.csv", "w").write(lines[0] + "".join(lines[7001:]))
    for solver in ("qr", "normal"):
        for w in ([], ["-w", "w"]):
            args = ["-y", "y", "-x", "x1,x2,x3", "--solver", solver] + w
            run(["fit", "old.csv", "-o", "m.json"] + args)
            upd = json.loads(run(["fit", "--update", "m.json", "-o", "m.json", "new.csv",
                                  "--format", "json"]).stdout)
            compare(fit_json(["all.csv"] + args), upd, 1e-11, "update %s %s" % (solver, w))
            # the model file was replaced and predicts with the new fit
            m = json.load(open("m.json"))
            if m["fit"]["n"] != 12000:
                fail("updated model holds n=%s" % m["fit"]["n"])
            # decay: old rows' weights times lambda
            lam = 0.37
            run(["fit", "old.csv", "-o", "m2.json"] + args)
            dec = json.loads(run(["fit", "--update", "m2.json", "--decay", str(lam), "new.csv",
                                  "--format", "json"]).stdout)
            with open("dw.csv", "w") as f:
                f.write(lines[0].rstrip("\n") + ",dw\n")
                for i, line in enumerate(lines[1:]):
                    wv = float(line.rstrip("\n").split(",")[6]) if w else 1.0
                    f.write("%s,%r\n" % (line.rstrip("\n"), wv * (lam if i < 7000 else 1.0)))
            ref = fit_json(["dw.csv", "-y", "y", "-x", "x1,x2,x3", "--solver", solver, "-w",
                            "dw"])
            compare(ref, dec, 1e-11, "decay %s %s" % (solver, w))
            if dec["df_residual"] != ref["df_residual"]:
                fail("decay: df %s != %s" % (dec["df_residual"], ref["df_residual"]))


def t_subtract():
    """merge --subtract (normal): a rolling window equals the refit on the
    rows left; QR says why it cannot; a foreign state is refused."""
    gen("all.csv", 9000, 8)
    lines = open("all.csv").read().splitlines(True)
    days = []
    for d in range(3):
        open("day%d.csv" % d, "w").write(lines[0] + "".join(lines[1 + 3000 * d:1 + 3000 * (d + 1)]))
        days.append(run(["fit", "--emit-state", "day%d.csv" % d, "-y", "y", "-x", "x1,x2,x3", "--solver",
                         "normal"]).stdout)
    open("day0.state", "wb").write(days[0])
    window = run(["merge", "--subtract", "day0.state"], stdin=b"".join(days)).stdout
    open("w12.csv", "w").write(lines[0] + "".join(lines[3001:]))
    compare(fit_json(["w12.csv", "-y", "y", "-x", "x1,x2,x3", "--solver", "normal"]), solve_json(window), 1e-9,
            "subtract day 0")
    open("w12.state", "wb").write(window)
    p = run(["merge", "--subtract", "w12.state"], stdin=days[0], check=False)
    if p.returncode != 5:
        fail("subtracting a foreign state: exit %d %s" % (p.returncode, p.stderr))
    q = run(["fit", "--emit-state", "day0.csv", "-y", "y", "-x", "x1,x2,x3"]).stdout
    open("q.state", "wb").write(q)
    p = run(["merge", "--subtract", "q.state"], stdin=q, check=False)
    if p.returncode != 2 or b"--solver normal" not in p.stderr:
        fail("qr subtract: exit %d %s" % (p.returncode, p.stderr))


def t_parallel_pipepart():
    """Engine: GNU parallel --pipepart on one host (the README recipe)."""
    if not shutil.which("parallel"):
        print("SKIP: GNU parallel is not installed (apt-get install parallel)")
        sys.exit(77)
    gen("big.csv", 60000, 9)
    one = fit_json(["big.csv", "-y", "y", "-x", "x1,x2,x3"])
    cmd = ("parallel --will-cite --halt now,fail=1 --pipepart -a big.csv --header : --block -4 "
           "'%s' fit --emit-state -y y -x x1,x2,x3 - | '%s' merge --expect-bytes \"$(stat -c%%s big.csv)\" "
           "| '%s' solve --format json" % (CSVREG, CSVREG, CSVREG))
    p = run(cmd, shell=True)
    compare(one, json.loads(p.stdout), 1e-11, "parallel --pipepart")


def t_hadoop():
    """Engine: the Hadoop Streaming contract, `for split; do mapper < split;
    done | sort | reducer`, with an empty split and splits whose first line
    is not the header."""
    gen("big.csv", 20000, 10)
    text = open("big.csv").read()  # a header that --columns can spell
    open("big.csv", "w").write("id,note,x1,x2,x3,y" + text[text.index("\n"):])
    one = fit_json(["big.csv", "-y", "y", "-x", "x1,x2,x3"])
    os.mkdir("splits")
    subprocess.run(["split", "-l", "3001", "big.csv", "splits/part-"], check=True)
    open("splits/part-zz", "w").close()  # an empty split
    header = open("big.csv").readline().rstrip("\n")
    for opt in (["--header-line", header], ["--columns", header]):
        mapper = "'%s' fit --emit-state %s -y y -x x1,x2,x3 -" % (
            CSVREG, " ".join("'%s'" % a for a in opt))
        cmd = ("for s in splits/*; do %s < \"$s\" || exit 1; done | sort | '%s' merge "
               "--expect-rows 20000 --expect-bytes %d | '%s' solve --format json"
               % (mapper, CSVREG, os.path.getsize("big.csv"), CSVREG))
        compare(one, json.loads(run(cmd, shell=True).stdout), 1e-11, "hadoop %s" % opt[0])


# ---- issue 15: no silent loss ----

def gen_fixed(path, n, seed, na_every=0):
    """Rows of a fixed width, so that blocks of equal row counts have equal
    byte sizes (a lost block and a duplicated one then add up exactly)."""
    rnd = random.Random(seed)
    with open(path, "w") as f:
        f.write("x1,x2,y\n")
        for i in range(n):
            a, b = rnd.uniform(1, 9), rnd.uniform(1, 9)
            y = "%09.5f" % (10 + 2 * a - b + rnd.uniform(0, 1))
            if na_every and i % na_every == 7:
                y = "NA"
            f.write("%.6f,%.6f,%s\n" % (a, b, y))


def blocks(path, k):
    """The file as k streamed blocks (each with the header), as --pipepart
    --header : cuts it: one state per block."""
    lines = open(path).read().splitlines(True)
    per = (len(lines) - 1) // k
    parts = [lines[0] + "".join(lines[1 + i * per:1 + (i + 1) * per]) for i in range(k)]
    return parts, [run(["fit", "--emit-state", "-y", "y", "-"], stdin=p.encode()).stdout
                   for p in parts]


def t_stream_repeat():
    """A lost streamed block and another of the same size delivered twice:
    exit 0 with wrong coefficients before issue 15 (both --expect-bytes and
    --expect-rows add up); now exit 3 naming both states. --allow-repeat
    merges them on purpose; the digest does not depend on --threads."""
    gen_fixed("f.csv", 4000, 21)
    size = str(os.path.getsize("f.csv"))
    parts, states = blocks("f.csv", 4)
    if len({len(p) for p in parts}) != 1:
        fail("blocks of unequal size: %s" % [len(p) for p in parts])
    one = fit_json(["f.csv", "-y", "y"])
    compare(one, solve_json(run(["merge", "--expect-bytes", size, "--expect-records", "4000"],
                                stdin=b"".join(states)).stdout), 1e-11, "4 blocks")
    bad = b"".join([states[0], states[1], states[3], states[1]])  # block 3 lost, 2 twice
    for chk in (["--expect-bytes", size], ["--expect-records", "4000"], ["--expect-used", "4000"],
                []):
        p = run(["merge"] + chk, stdin=bad, check=False)
        if p.returncode != 3 or b"<stdin>:2 and <stdin>:4 are the same streamed block" not in \
                p.stderr or b"a shard is duplicated" not in p.stderr:
            fail("lost + duplicated block %s: exit %d, %s" % (chk, p.returncode, p.stderr))
    print("lost + duplicated block: exit 3:", p.stderr.decode().strip())
    # on purpose (an input that holds one block twice): merged, and the
    # coverage check still holds
    m = run(["merge", "--allow-repeat", "--expect-bytes", size], stdin=bad).stdout
    if json.loads(run(["solve", "--format", "json"], stdin=m).stdout)["n"] != 4000:
        fail("--allow-repeat: wrong n")
    # the same digest on one thread, on two, and with small stream blocks
    digests = set()
    for extra, env in (([], None), (["--threads", "2"], None), (["--threads", "2"], "1000")):
        e = dict(os.environ)
        if env:
            e["CSVREG_STDIN_BLOCK"] = env
        out = subprocess.run([CSVREG, "fit", "--emit-state", "-y", "y", "-"] + extra,
                             input=parts[1].encode(), capture_output=True, env=e,
                             check=True).stdout
        digests.add(json.loads(out)["meta"]["digest"])
    if len(digests) != 1:
        fail("digest depends on the read path: %s" % digests)
    # empty blocks (no rows) all have the same digest and merge as nothing
    empty = run(["fit", "--emit-state", "-y", "y", "-"], stdin=b"x1,x2,y\n").stdout
    compare(one, solve_json(run(["merge", "--expect-records", "4000"],
                                stdin=b"".join(states) + empty + empty).stdout), 1e-11,
            "empty blocks")
    # states written before digests (no "digest") merge as before
    # a ranged state has no digest: byte ranges already tell shards apart
    if "digest" in json.loads(run(["fit", "--emit-state", "-y", "y", "--range", "1/2",
                                   "f.csv"]).stdout)["meta"]:
        fail("a ranged state got a digest")


def t_expect_counts():
    """--expect-records counts records read (NA-dropped rows included; alias
    --expect-rows), --expect-used counts the rows in the fit (n); giving one
    count to the other option says so instead of 'a shard is duplicated'."""
    gen_fixed("na.csv", 3000, 22, na_every=10)
    _, states = blocks("na.csv", 3)
    st = b"".join(states)
    n = fit_json(["na.csv", "-y", "y"])["n"]
    if n != 2700:
        fail("n = %d" % n)
    run(["merge", "--expect-records", "3000", "--expect-used", "2700"], stdin=st)
    run(["merge", "--expect-rows", "3000"], stdin=st)
    p = run(["merge", "--expect-records", "2700"], stdin=st, check=False)
    if p.returncode != 3 or b"duplicated" in p.stderr or b"--expect-used" not in p.stderr:
        fail("--expect-records n: exit %d %s" % (p.returncode, p.stderr))
    p = run(["merge", "--expect-used", "3000"], stdin=st, check=False)
    if p.returncode != 3 or b"missing" in p.stderr or b"--expect-records" not in p.stderr:
        fail("--expect-used records: exit %d %s" % (p.returncode, p.stderr))
    p = run(["merge", "--expect-used", "2700"], stdin=states[0] + states[1], check=False)
    if p.returncode != 3 or b"a shard is missing" not in p.stderr:
        fail("--expect-used, a lost shard: exit %d %s" % (p.returncode, p.stderr))
    for bad in ("1e3", "-1", " 5", "18446744073709551616", ""):
        p = run(["merge", "--expect-used", bad], stdin=st, check=False)
        if p.returncode != 2:
            fail("--expect-used %r: exit %d" % (bad, p.returncode))
    print("count checks:", run(["merge", "--expect-records", "2700"], stdin=st,
                                check=False).stderr.decode().strip())


def merged(states, extra=()):
    """One merge of `states` (a list of state lines), its output."""
    return run(["merge"] + list(extra), stdin=b"".join(states)).stdout


def refused(states, chk, want, what):
    """merge CHK over `states` must exit 3 with `want` in its message."""
    p = run(["merge"] + chk, stdin=b"".join(states), check=False)
    if p.returncode != 3 or want.encode() not in p.stderr:
        fail("%s, merge %s: exit %d, %s (want 3, %r)" % (what, " ".join(chk), p.returncode,
                                                          p.stderr.decode().strip(), want))
    return p.stderr.decode().strip()


def t_merge_tree():
    """Merges of merges (per-node merges, then a final merge: a Slurm job per
    node, a tree of reducers) keep the provenance checks (issue 15): a lost
    or repeated shard anywhere in the tree is exit 3 at the final merge with
    --expect-bytes / --expect-records / --expect-used, and a streamed block
    delivered to two nodes is exit 3 with no option at all; the right tree
    equals the single pass. Ranged and streamed shards, accumulator and meat
    states, two and three levels."""
    # ranged shards: 8 ranges, two nodes of 4, merged without checks (a node
    # sees only part of the file), the final merge checks the whole file
    gen("d.csv", 6000, 41)
    size = str(os.path.getsize("d.csv"))
    args = ["-y", "y", "-x", "x1,x2,x3"]
    one = fit_json(["d.csv"] + args)
    p = shards("d.csv", 8, args)
    full = ["--expect-bytes", size, "--expect-records", "6000", "--expect-used", "6000"]
    n1, n2 = merged(p[:4]), merged(p[4:])
    compare(one, solve_json(merged([n2, n1], full)), 1e-11, "ranged, 2 nodes of 4")
    deep = merged([merged([merged(p[0:2]), merged(p[2:3])]), merged([p[3], merged(p[4:7])]), p[7]],
                  full)
    compare(one, solve_json(deep), 1e-11, "ranged, 3 levels")
    compare(one, solve_json(merged([deep], full)), 1e-11, "ranged, the final state merged again")
    cases = {
        "a lost shard (last of node 1)": ([merged(p[:3]), n2], "a shard is missing"),
        "a lost shard (inside node 1)": ([merged(p[:2] + p[3:4]), n2], "a shard is missing"),
        "a shard twice in one node": ([merged(p[:4] + p[1:2]), n2], "a shard is duplicated"),
        "a shard in two nodes": ([n1, merged(p[4:] + p[2:3])], "a shard is duplicated"),
        "a node's state twice": ([n1, n1, n2], "a shard is duplicated"),
        "lost and repeated": ([merged(p[:2] + p[1:2] + p[3:4]), n2], "a shard is duplicated"),
        "3 levels, one lost": ([merged([merged(p[0:2]), p[3]]), n2], "a shard is missing"),
    }
    for what, (states, want) in cases.items():
        refused(states, ["--expect-bytes", size], want, "ranged: " + what)
        rows = "missing" if "missing" in want else "duplicated"
        refused(states, ["--expect-records", "6000"], rows, "ranged: " + what)
        refused(states, ["--expect-used", "6000"], rows, "ranged: " + what)
    print("ranged tree: %d failures refused, e.g. %s" % (
        len(cases), refused(cases["a shard in two nodes"][0], ["--expect-bytes", size],
                            "duplicated", "")))

    # streamed blocks (--pipepart, Hadoop splits): equal sizes, so a lost
    # block and a repeated one add up in bytes and records; only the digests
    # of the blocks, carried through every merge, tell them apart
    gen_fixed("f.csv", 8000, 42)
    fsize = str(os.path.getsize("f.csv"))
    one = fit_json(["f.csv", "-y", "y"])
    _, b = blocks("f.csv", 8)
    full = ["--expect-bytes", fsize, "--expect-records", "8000"]
    s1, s2 = merged(b[:4]), merged(b[4:])
    compare(one, solve_json(merged([s2, s1], full)), 1e-11, "streamed, 2 nodes of 4")
    deep = merged([merged([merged(b[0:2]), b[2]]), merged([b[3], merged(b[4:7])]), b[7]], full)
    compare(one, solve_json(deep), 1e-11, "streamed, 3 levels")
    if sorted(d[0] for d in json.loads(deep)["meta"]["digests"]) != sorted(
            json.loads(x)["meta"]["digest"] for x in b):
        fail("the merged state does not list its blocks' digests")
    cross = [merged(b[:2] + b[3:4]), merged(b[1:2] + b[4:])]  # block 3 lost, block 2 twice
    for chk in (full, ["--expect-bytes", fsize], ["--expect-records", "8000"], []):
        refused(cross, chk, "the same streamed block", "streamed, lost + repeated across nodes")
        refused([s1, s1, s2], chk, "the same streamed block", "streamed, a node's state twice")
        refused([merged([merged(b[:2]), b[2]]), merged([b[2], b[3]]), s2], chk,
                "the same streamed block", "streamed, 3 levels, a block twice")
    msg = refused(cross, [], "a shard is duplicated", "")
    print("streamed tree, a block lost and another in two nodes:", msg)
    refused([merged(b[:3]), s2], full, "a shard is missing", "streamed, a lost block")
    # a repeat allowed where it was merged stays allowed above it; the same
    # block in another state is still refused
    r1 = merged(b[:4] + b[1:2], ["--allow-repeat"])
    n = solve_json(merged([r1, s2]))
    if n["n"] != 9000:
        fail("--allow-repeat below: n = %d" % n["n"])
    refused([r1, merged(b[4:] + b[1:2])], [], "the same streamed block",
            "streamed, an allowed repeat then the block in another node")
    run(["merge", "--allow-repeat"], stdin=r1 + merged(b[4:] + b[1:2]))
    # --subtract leaves no digests behind (its provenance is not a union:
    # the digests of the blocks subtracted are gone from it)
    fparts, _ = blocks("f.csv", 8)
    nb = [run(["fit", "--emit-state", "--solver", "normal", "-y", "y", "-"],
              stdin=x.encode()).stdout for x in fparts]
    open("first.state", "wb").write(nb[0])
    win = json.loads(run(["merge", "--subtract", "first.state"], stdin=b"".join(nb)).stdout)
    if "digests" in win["meta"] or "digest" in win["meta"]:
        fail("a subtracted state kept digests: %s" % win["meta"])

    # meat states (the second pass of robust errors), ranged and streamed
    ref = fit_json(["d.csv", "--vcov", "HC1"] + args)
    run(["fit", "-o", "model.json"] + args + ["d.csv"])
    m = [run(["fit", "--emit-state", "--vcov", "HC1", "-m", "model.json", "--range",
              "%d/8" % i, "d.csv"]).stdout for i in range(1, 9)]
    mfull = ["--expect-bytes", size, "--expect-records", "6000"]
    for what, states in (("2 nodes of 4", [merged(m[4:]), merged(m[:4])]),
                         ("3 levels", [merged([merged(m[0:2]), m[2]]), merged([m[3], merged(
                             m[4:7])]), m[7]])):
        out = run(["solve", "-m", "model.json", "--format", "json"],
                  stdin=merged(states, mfull)).stdout
        compare(ref, json.loads(out), 1e-11, "meat states, ranged, " + what)
    mcases = {
        "a lost shard": ([merged(m[:3]), merged(m[4:])], "a shard is missing"),
        "a shard in two nodes": ([merged(m[:4]), merged(m[4:] + m[2:3])], "a shard is duplicated"),
        "a node's state twice": ([merged(m[:4]), merged(m[:4]), merged(m[4:])],
                                 "a shard is duplicated"),
    }
    for what, (states, want) in mcases.items():
        refused(states, ["--expect-bytes", size], want, "meat, ranged: " + what)
        refused(states, ["--expect-records", "6000"], want.split()[-1], "meat, ranged: " + what)
    run(["fit", "-o", "fmodel.json", "-y", "y", "f.csv"])
    fref = fit_json(["f.csv", "-y", "y", "--vcov", "HC1"])
    mb = [run(["fit", "--emit-state", "--vcov", "HC1", "-m", "fmodel.json", "-"],
              stdin=x.encode()).stdout for x in fparts]
    out = run(["solve", "-m", "fmodel.json", "--format", "json"],
              stdin=merged([merged(mb[4:]), merged([merged(mb[:2]), mb[2], mb[3]])], full)).stdout
    compare(fref, json.loads(out), 1e-11, "meat states, streamed, 3 levels")
    mcross = [merged(mb[:2] + mb[3:4]), merged(mb[1:2] + mb[4:])]
    for chk in (full, []):
        refused(mcross, chk, "the same streamed block", "meat, streamed, across nodes")
    print("meat trees: refused as the accumulator trees")


def t_update_replay():
    """fit --update records what it folded (name, size, digests, records) and
    refuses to fold the same input again (exit 3, the model untouched) unless
    --allow-repeat; stdin updates are known by the digest of their bytes.
    A plain fit -o records its own input the same way, so the model's own
    training file given to --update is refused the first time too (issue 15,
    "no silent loss"; before, plain models had no record and the first
    replay was folded)."""
    gen("all.csv", 9000, 23)
    lines = open("all.csv").read().splitlines(True)
    open("old.csv", "w").write("".join(lines[:3001]))
    open("day1.csv", "w").write(lines[0] + "".join(lines[3001:6001]))
    open("day2.csv", "w").write(lines[0] + "".join(lines[6001:]))
    args = ["-y", "y", "-x", "x1,x2,x3"]
    run(["fit", "old.csv", "-o", "m.json"] + args)
    rec = json.load(open("m.json")).get("folded")
    if not rec or len(rec) != 1 or rec[0]["name"] != "old.csv" or rec[0]["records"] != 3000 or \
            rec[0]["size"] != os.path.getsize("old.csv") or "head" not in rec[0]:
        fail("a plain fit -o model's fold record: %s" % rec)
    before = open("m.json", "rb").read()
    for how in (["old.csv"], ["-"]):
        p = run(["fit", "--update", "m.json", "-o", "m.json"] + how, check=False,
                stdin=open("old.csv", "rb").read())
        if p.returncode != 3 or b"folded into m.json already (update 1 of 1, from old.csv" \
                not in p.stderr or b"--allow-repeat" not in p.stderr:
            fail("the training file given to --update %s: exit %d %s" %
                 (how, p.returncode, p.stderr))
        if open("m.json", "rb").read() != before:
            fail("a refused --update changed the model")
    print("own training file:", p.stderr.decode().strip())
    run(["fit", "--update", "m.json", "-o", "m.json", "day1.csv"])
    rec = json.load(open("m.json"))["folded"]
    if len(rec) != 2 or rec[1]["name"] != "day1.csv" or rec[1]["records"] != 3000 or \
            rec[1]["size"] != os.path.getsize("day1.csv") or "head" not in rec[1]:
        fail("fold record: %s" % rec)
    before = open("m.json", "rb").read()
    for how in (["day1.csv"], ["-"]):
        p = run(["fit", "--update", "m.json", "-o", "m.json"] + how, check=False,
                stdin=open("day1.csv", "rb").read())
        if p.returncode != 3 or b"folded into m.json already" not in p.stderr or \
                b"--allow-repeat" not in p.stderr:
            fail("replayed --update %s: exit %d %s" % (how, p.returncode, p.stderr))
        if open("m.json", "rb").read() != before:
            fail("a refused --update changed the model")
    print("replay:", p.stderr.decode().strip())
    # a copy under another name is the same rows
    shutil.copy("day1.csv", "copy.csv")
    if run(["fit", "--update", "m.json", "copy.csv"], check=False).returncode != 3:
        fail("a renamed copy was folded again")
    # stdin: the digest of the streamed bytes
    upd = json.loads(run(["fit", "--update", "m.json", "-o", "m.json", "--format", "json", "-"],
                         stdin=open("day2.csv", "rb").read()).stdout)
    compare(fit_json(["all.csv"] + args), upd, 1e-11, "update file then stdin")
    rec = json.load(open("m.json"))["folded"]
    if len(rec) != 3 or rec[2]["name"] != "<stdin>" or "digest" not in rec[2]:
        fail("stdin fold record: %s" % rec)
    p = run(["fit", "--update", "m.json", "-o", "m.json", "-"], check=False,
            stdin=open("day2.csv", "rb").read())
    if p.returncode != 3:
        fail("replayed stdin --update: exit %d" % p.returncode)
    p = run(["fit", "--update", "m.json", "-o", "m.json", "--threads", "2", "-"], check=False,
            stdin=open("day2.csv", "rb").read())
    if p.returncode != 3:
        fail("replayed stdin --update --threads 2: exit %d" % p.returncode)
    # --allow-repeat folds it again on purpose (and records it twice)
    upd = json.loads(run(["fit", "--update", "m.json", "-o", "m.json", "--allow-repeat",
                          "--format", "json", "day1.csv"]).stdout)
    if upd["n"] != 12000 or len(json.load(open("m.json"))["folded"]) != 4:
        fail("--allow-repeat: n %d" % upd["n"])
    # an edited record fails the model's checksum
    t = open("m.json").read().replace('"records": 3000', '"records": 3001', 1)
    open("e.json", "w").write(t)
    p = run(["predict", "-m", "e.json", "day1.csv"], check=False)
    if t == open("m.json").read() or p.returncode != 6 or b"checksum" not in p.stderr:
        fail("an edited fold record loaded: exit %d %s" % (p.returncode, p.stderr))
    if run(["fit", "--allow-repeat", "-y", "y", "old.csv"], check=False).returncode != 2:
        fail("--allow-repeat without --update")
    # two ranges of one file are other rows; the same range again is not
    run(["fit", "old.csv", "-o", "r.json"] + args)
    run(["fit", "--update", "r.json", "-o", "r.json", "--range", "1/2", "day1.csv"])
    run(["fit", "--update", "r.json", "-o", "r.json", "--range", "2/2", "day1.csv"])
    if run(["fit", "--update", "r.json", "--range", "2/2", "day1.csv"], check=False) \
            .returncode != 3:
        fail("the same range folded again")
    if run(["fit", "--update", "r.json", "day1.csv"], check=False).returncode != 0:
        fail("the whole file after its two ranges was refused (it is other bytes)")
    # a range fitted with -o is recorded as that range (--threads too)
    run(["fit", "--range", "1/2", "--threads", "2", "day1.csv", "-o", "q.json"] + args)
    if run(["fit", "--update", "q.json", "--range", "1/2", "day1.csv"], check=False) \
            .returncode != 3:
        fail("fit --range 1/2 -o, then the same range given to --update")
    run(["fit", "--update", "q.json", "-o", "q.json", "--range", "2/2", "day1.csv"])


def compare_val(a, b, tol, what):
    """The fit and the --cv / --holdout scores of two JSON reports."""
    compare(a, b, tol, what)
    for k in ("cv", "holdout"):
        if (k in a) != (k in b):
            fail("%s: %s in one report only" % (what, k))
    pa = a.get("cv", {}).get("folds", []) + ([a["holdout"]] if "holdout" in a else [])
    pb = b.get("cv", {}).get("folds", []) + ([b["holdout"]] if "holdout" in b else [])
    for x, y in zip(pa, pb):
        if x["n"] != y["n"]:
            fail("%s: a part holds %d rows against %d" % (what, x["n"], y["n"]))
        for k in ("mse", "r_squared"):
            if not rel(x[k], y[k]) <= tol:
                fail("%s: %s %r against %r" % (what, k, x[k], y[k]))


def t_matrix():
    """One fit driver: --threads, --range/--bytes, stdin (blocks), --cv and
    --holdout, --stats and --update combine, and every combination gives the
    plain single pass: exactly where the path is the same (stdin on one
    thread), to 1e-12 where sinks are merged in another order. Files with
    quoted newlines and LF, CRLF and lone-CR line ends."""
    gen("lf.csv", 8000, 21, quoted=True)
    gen("crlf.csv", 8000, 22, quoted=True, crlf=True)
    gen("p.csv", 8000, 23)
    open("cr.csv", "w", newline="").write(open("p.csv").read().replace("\n", "\r"))
    base = ["-y", "y", "-x", "x1,x2,x3", "--format", "json"]
    size = {f: os.path.getsize(f) for f in ("lf.csv", "crlf.csv", "cr.csv")}
    cases = 0
    for f in ("lf.csv", "crlf.csv", "cr.csv"):
        for val in ([], ["--cv", "4", "--seed", "3"], ["--holdout", "0.3", "--seed", "5"]):
            what = "%s %s" % (f, " ".join(val) or "plain")
            args = base + val
            ref_text = run(["fit", f] + args).stdout
            ref = json.loads(ref_text)
            if ref["n"] + ref.get("holdout", {}).get("n", 0) != 8000:
                fail("%s: n = %d" % (what, ref["n"]))
            # the same path: stdin on one thread is the same bytes, exactly
            one = run(["fit"] + args + ["-"], stdin=open(f, "rb").read()).stdout
            if one != ref_text:
                fail("%s: stdin on one thread differs from the file" % what)
            variants = {
                "--threads 3": [f, "--threads", "3"],
                "--range 1/1 --threads 2": [f, "--range", "1/1", "--threads", "2"],
                "--bytes 0:size --threads 4": [f, "--bytes", "0:%d" % size[f], "--threads", "4"],
                "--stats --threads 2": [f, "--stats", "--threads", "2"],
            }
            for name, v in variants.items():
                got = json.loads(run(["fit"] + args + v).stdout)
                compare_val(ref, got, 1e-12, "%s %s" % (what, name))
                cases += 1
            for n, block in ((2, 1000), (3, 65536)):
                p = stdin_fit(f, args, n, block)
                if p.returncode != 0:
                    fail("%s: stdin --threads %d: %s" % (what, n, p.stderr))
                compare_val(ref, json.loads(p.stdout), 1e-12,
                            "%s stdin --threads %d block %d" % (what, n, block))
                cases += 1
        # ranges: shards (on threads or not) merged equal the single pass
        ref = fit_json([f] + base)
        for extra in ([], ["--threads", "2"]):
            states = b"".join(shards(f, 3, ["-y", "y", "-x", "x1,x2,x3"] + extra))
            compare(ref, solve_json(states), 1e-12, "%s --range i/3 %s" % (f, " ".join(extra)))
            cases += 1
    # --update through every path equals a fit on old + new rows
    lines = open("lf.csv", newline="").read().split("\n")
    cut = next(i for i in range(5000, len(lines)) if lines[i][:1].isdigit() and
               lines[i].split(",")[0] == str(int(lines[i].split(",")[0])))
    open("old.csv", "w", newline="").write("\n".join(lines[:cut]) + "\n")
    open("new.csv", "w", newline="").write(lines[0] + "\n" + "\n".join(lines[cut:]))
    whole = fit_json(["lf.csv"] + base)
    run(["fit", "old.csv", "-o", "m.json", "-y", "y", "-x", "x1,x2,x3"])
    for name, v in {"file": ["new.csv"], "--threads 2": ["new.csv", "--threads", "2"],
                    "--range 1/1": ["new.csv", "--range", "1/1"],
                    "--cv 3": ["new.csv", "--cv", "3"]}.items():
        got = json.loads(run(["fit", "--update", "m.json", "--format", "json"] + v).stdout)
        compare(whole, got, 1e-11, "--update %s" % name)
        cases += 1
    p = stdin_fit("new.csv", ["--update", "m.json", "--format", "json"], 2, 4096)
    compare(whole, json.loads(p.stdout), 1e-11, "--update stdin --threads 2")
    print("%d combinations equal the single pass" % (cases + 1))


# ---- one reader for every path (issue 17): a differential test ----

def gen_mixed(rnd, n):
    """A header and n records as bytes, each record ending in LF, CRLF or a
    lone CR at random, blank lines of every kind between them (and maybe
    before the header), maybe a BOM, and quoted notes holding LF, CRLF, CR
    and doubled quotes. Returns (header bytes, list of record bytes)."""
    ends = [b"\n", b"\r\n", b"\r"]
    notes = [b"plain", b'"two\nlines"', b'"cr\rinside"', b'"crlf\r\n""q"""', b"", b'"a,b"',
             b'"\n"', b'"end\r"']
    head = b""
    if rnd.random() < 0.5:
        head += b"\xef\xbb\xbf"
    for _ in range(rnd.choice((0, 0, 1, 2))):
        head += rnd.choice(ends)
    head += b'id,"note, text",x1,x2,y' + rnd.choice(ends)
    recs = []
    for i in range(n):
        x1, x2 = rnd.gauss(0, 1), rnd.uniform(-50, 50)
        y = 3 - 2 * x1 + 0.25 * x2 + rnd.gauss(0, 0.5)
        r = b"%d,%s,%r,%r,%r" % (i, rnd.choice(notes), x1, x2, y)
        r += rnd.choice(ends)
        while rnd.random() < 0.04:
            r += rnd.choice(ends)  # blank lines (a CR then an LF joins into CRLF: still blank)
        recs.append(r)
    return head, recs


def t_readpaths():
    """Random files mixing LF, CRLF and lone-CR line ends, blank lines, a BOM
    and quoted line breaks, read by every path -- plain, --threads 1..4,
    --range I/N merged, standard input (one thread, --threads with small
    blocks, --emit-state) and --update -- find the same records and give the
    same answer as the plain pass (1e-11)."""
    args = ["-y", "y", "-x", "x1,x2"]
    cases = 0
    for seed in range(8):
        rnd = random.Random(100 + seed)
        n = (1, 2, 7, 300, 3000, 3000, 1000, 300)[seed]
        head, recs = gen_mixed(rnd, n)
        data = head + b"".join(recs)
        open("m.csv", "wb").write(data)
        what = "seed %d (%d records, %d bytes)" % (seed, n, len(data))
        if n < 3:  # too few rows to fit 3 coefficients: the counts must still agree
            outs = set()
            for v in (["m.csv"], ["m.csv", "--threads", "3"], ["-"]):
                p = run(["fit", "--emit-state"] + args + v, stdin=data)
                outs.add(json.loads(p.stdout.splitlines()[0])["counts"]["records"])
            if outs != {n}:
                fail("%s: records seen %s, want %d" % (what, outs, n))
            cases += 3
            continue
        ref = fit_json(["m.csv"] + args)
        if ref["n"] != n:
            fail("%s: plain fit n = %d" % (what, ref["n"]))
        got = {}
        for k in (1, 2, 3, 4):
            got["--threads %d" % k] = fit_json(["m.csv", "--threads", str(k)] + args)
        for k in (2, 3, 7):
            states = b"".join(shards("m.csv", k, args))
            merged = run(["merge", "--expect-bytes", str(len(data)), "--expect-records", str(n)],
                         stdin=states).stdout
            got["--range i/%d" % k] = solve_json(merged)
        got["stdin"] = json.loads(run(["fit", "--format", "json"] + args + ["-"], stdin=data).stdout)
        got["stdin --emit-state"] = solve_json(run(["fit", "--emit-state"] + args + ["-"],
                                                   stdin=data).stdout)
        for k, block in ((2, 1), (3, 4096)):
            p = stdin_fit("m.csv", ["--format", "json"] + args, k, block)
            if p.returncode != 0:
                fail("%s: stdin --threads %d: %s" % (what, k, p.stderr.decode()))
            got["stdin --threads %d block %d" % (k, block)] = json.loads(p.stdout)
        # --update: the first records, then the rest under a header of its own
        cut = n // 3
        open("old.csv", "wb").write(head + b"".join(recs[:cut]))
        new_head = rnd.choice((b"", b"\xef\xbb\xbf")) + b'id,"note, text",x1,x2,y' + \
            rnd.choice((b"\n", b"\r\n", b"\r"))
        open("new.csv", "wb").write(new_head + b"".join(recs[cut:]))
        if os.path.exists("u.json"):
            os.remove("u.json")
        run(["fit", "old.csv", "-o", "u.json"] + args)
        got["--update"] = json.loads(run(["fit", "--update", "u.json", "--format", "json",
                                          "new.csv"]).stdout)
        got["--update --threads 2"] = json.loads(run(["fit", "--update", "u.json", "--format",
                                                      "json", "new.csv", "--threads", "2"]).stdout)
        for name, res in got.items():
            compare(ref, res, 1e-11, "%s %s" % (what, name))
            cases += 1
    print("%d read paths agree with the plain pass" % cases)


# ---- formula specs (issue 12): numeric transforms and categorical variables ----

STAT_KEYS = ("residual_sd", "r_squared", "adj_r_squared", "f_statistic", "log_likelihood", "aic",
             "bic")


def compare_formula(a, b, tol, what):
    """Term names in order, then every coefficient, SE, t and interval and the
    fit statistics. The condition number is left out: a 1-norm *estimate*
    (dtrcon) whose iterations depend on the signs of R's rows, which differ
    between merge orders; it is a diagnostic, not a result."""
    if a["n"] != b["n"]:
        fail("%s: n %d != %d" % (what, a["n"], b["n"]))
    na, nb = [t["name"] for t in a["terms"]], [t["name"] for t in b["terms"]]
    if na != nb:
        fail("%s: terms %s != %s" % (what, na, nb))
    worst = 0.0
    for x, y in zip(a["terms"], b["terms"]):
        for k in ("estimate", "std_error", "t_value", "ci_lower", "ci_upper"):
            if k in x and x[k] is not None and y.get(k) is not None:
                worst = max(worst, rel(x[k], y[k]))
            elif x.get(k) != y.get(k):
                fail("%s: %s of %s: %r against %r" % (what, k, x["name"], x.get(k), y.get(k)))
    for k in STAT_KEYS:
        if k in a:
            worst = max(worst, rel(a[k], b[k]))
    print("%s: worst relative difference %.3g (tolerance %g)" % (what, worst, tol))
    if not worst <= tol:
        fail("%s: relative difference %.3g > %g" % (what, worst, tol))


def gen_factors(path, n, seed):
    """y, x, z > 0 and two text columns whose level sets change along the
    file: g's byte-order baseline "a" only in the last quarter (shards before
    it have baseline b), h's "w" only in the second quarter."""
    rnd = random.Random(seed)
    eff = {"a": 0.0, "b": 1.0, "c": -0.5, "d": 2.0, "e": 0.7}
    with open(path, "w") as f:
        f.write("y,x,z,g,h\n")
        for i in range(n):
            q = 4 * i // n
            g = rnd.choice("bc" if q < 3 else "abcde" if q == 3 else "bc")
            if q == 1 and i % 3 == 0:
                g = "e"
            h = "w" if q == 1 and i % 5 == 0 else rnd.choice("uv")
            x, z = rnd.uniform(-3, 3), rnd.uniform(0.5, 20)
            y = math.exp(0.2 + 0.3 * x + eff[g] * 0.1 + (0.2 if h == "v" else -0.1 if h == "w"
                         else 0) + 0.05 * x * eff[g] + 0.1 * math.log(z) + rnd.gauss(0, 0.1))
            f.write("%r,%r,%r,%s,%s\n" % (y, x, z, g, h))


FORMULAS = ["log(y) ~ x + I(x^2) + log(z)",
            "y ~ x * g + h",
            "log(y) ~ x + relevel(g, ref = \"c\") + h:x + sqrt(z)",
            "y ~ x + factor(h) - 1",
            "y ~ (x + g + h)^2"]


def t_formula_paths():
    """Formula specs (numeric transforms and factors whose level sets differ
    along the file) through every shard path: --threads, --range with and
    without threads, --bytes, stdin blocks, --emit-state of ranges and of
    stdin merged in several orders then solved; each equals the plain single
    pass (1e-11), and the plain pass equals R's lm."""
    gen_factors("f.csv", 6000, 31)
    size = os.path.getsize("f.csv")
    cases = 0
    for form in FORMULAS:
        ref_text = run(["fit", form, "f.csv", "--format", "json"]).stdout
        ref = json.loads(ref_text)
        def check(got, what):
            compare_formula(ref, got, 1e-11, "%s: %s" % (form, what))
        for n in (2, 3):
            check(fit_json([form, "f.csv", "--threads", str(n)]), "--threads %d" % n)
        check(fit_json([form, "f.csv", "--bytes", "0:%d" % size, "--threads", "2"]), "--bytes")
        for n, block in ((2, 1000), (3, 65536)):
            p = stdin_fit("f.csv", ["'%s'" % form, "--format", "json"], n, block)
            if p.returncode != 0:
                fail("%s: stdin --threads %d: %s" % (form, n, p.stderr))
            check(json.loads(p.stdout), "stdin --threads %d block %d" % (n, block))
        for extra in ([], ["--threads", "2"]):
            parts = shards("f.csv", 5, ["--formula", form] + extra)
            for seed in range(3):
                order = parts[:]
                random.Random(seed).shuffle(order)
                check(solve_json(b"".join(order)), "5 ranges %s, order %d" % (extra, seed))
            merged = run(["merge", "--expect-bytes", str(size)], stdin=b"".join(parts[::-1])).stdout
            check(solve_json(merged), "merge --expect-bytes then solve")
        # streamed: whole blocks of lines on stdin, each with the header
        lines = open("f.csv").read().split("\n")[:-1]
        blocks = [lines[1 + i:1 + i + 1700] for i in range(0, len(lines) - 1, 1700)]
        states = [run(["fit", form, "--emit-state", "-"],
                      stdin=("\n".join([lines[0]] + b) + "\n").encode()).stdout for b in blocks]
        check(solve_json(b"".join(states[::-1])), "stdin blocks --emit-state")
        check(solve_json(run(["fit", form, "--emit-state", "f.csv"]).stdout), "--emit-state")
        cases += 1
    r_check("f.csv", FORMULAS)
    print("%d formulas equal the single pass on every path" % cases)


R_SCRIPT = r"""
args <- commandArgs(TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
fs <- readLines(args[2])
for (f in fs) {
  m <- lm(as.formula(f), data = d)
  cf <- summary(m)$coefficients
  b <- coef(m)
  cat("F\t", f, "\n", sep = "")
  for (k in names(b)) {
    se <- if (k %in% rownames(cf)) cf[k, 2] else NA
    cat(k, "\t", sprintf("%.17g", b[[k]]), "\t", sprintf("%.17g", se), "\n", sep = "")
  }
}
"""


def r_check(path, forms):
    """The plain pass against R's lm (C collation), 1e-9 as the issue asks."""
    if not shutil.which("Rscript"):
        fail("Rscript not found: the comparison with R's lm needs it (Debian r-base-core)")
    open("forms.txt", "w").write("\n".join(forms) + "\n")
    open("ref.R", "w").write(R_SCRIPT)
    out = subprocess.run(["Rscript", "ref.R", path, "forms.txt"], capture_output=True, text=True,
                         env=dict(os.environ, LC_ALL="C", LC_COLLATE="C"))
    if out.returncode != 0:
        fail("Rscript: %s" % out.stderr)
    want, cur = {}, None
    for line in out.stdout.splitlines():
        k, rest = line.split("\t", 1)
        if k == "F":
            cur = want.setdefault(rest, [])
        else:
            cur.append((k,) + tuple(float("nan") if v == "NA" else float(v) for v in rest.split("\t")))
    for form in forms:
        got = fit_json([form, path])
        names = [t["name"] for t in got["terms"]]
        if names != [w[0] for w in want[form]]:
            fail("%s: terms %s, R %s" % (form, names, [w[0] for w in want[form]]))
        worst = 0.0
        for t, w in zip(got["terms"], want[form]):
            if math.isnan(w[1]):  # aliased in R: NA here too
                if t["estimate"] is not None:
                    fail("%s: %s is aliased in R, %r here" % (form, w[0], t["estimate"]))
                continue
            worst = max(worst, rel(t["estimate"], w[1]), rel(t["std_error"], w[2]))
        print("%s: R's lm within %.3g" % (form, worst))
        if not worst <= 1e-9:
            fail("%s: %.3g from R" % (form, worst))


def t_late_levels():
    """The issue's acceptance: a level first seen after 10^6 rows, levels
    present in only some of 8 shards (so the shards' own baselines differ):
    plain, --threads 2 and 8 --range shards merged forward, reversed,
    shuffled, as a merge of merges and as pairs, and with --solver normal,
    all give the single pass to 1e-11; the single pass equals R's lm (1e-9)."""
    n = 1100000
    rnd = random.Random(41)
    with open("big.csv", "w") as f:
        f.write("y,x,g,h\n")
        rows = []
        for i in range(n):
            # a and d first at row 10^6 (a: the final baseline, byte order);
            # w only in rows 300000-399999
            g = ("b", "c")[i & 1] if i < 1000000 else "abcd"[i % 4]
            h = "w" if 300000 <= i < 400000 and i % 3 == 0 else ("u", "v")[(i >> 1) & 1]
            x = (i % 1000) / 100.0 - 5
            e = (i * 7919 % 1000) / 1000.0 - 0.5
            # every effect well away from 0: relative differences mean something
            y = (1 + 0.5 * x + {"a": 0, "b": 1, "c": -1, "d": 2}[g] + (h == "v") * 0.3 -
                 (h == "w") * 0.4 + {"a": 0, "b": 0.2, "c": -0.3, "d": 0.4}[g] * x + e)
            rows.append("%.3f,%.2f,%s,%s\n" % (y, x, g, h))
        f.write("".join(rows))
    form = "y ~ x * g + h"
    ref = fit_json([form, "big.csv"])
    if [t["name"] for t in ref["terms"]][:5] != ["(Intercept)", "x", "gb", "gc", "gd"]:
        fail("terms %s" % [t["name"] for t in ref["terms"]])
    compare_formula(ref, fit_json([form, "big.csv", "--threads", "2"]), 1e-11, "--threads 2")
    parts = shards("big.csv", 8, ["--formula", form])
    levels = [json.loads(p)["factors"][0]["levels"] for p in parts]
    if "a" in levels[0] or "a" not in levels[7]:
        fail("the shards' levels of g: %s" % levels)
    for name, order in (("forward", parts), ("reverse", parts[::-1]),
                        ("shuffled", random.Random(5).sample(parts, 8))):
        compare_formula(ref, solve_json(b"".join(order)), 1e-11, "8 ranges %s" % name)
    # a merge of merges: two halves merged, then together
    a = run(["merge"], stdin=b"".join(parts[4:])).stdout
    b = run(["merge"], stdin=b"".join(parts[:4])).stdout
    compare_formula(ref, solve_json(a + b), 1e-11, "merge of two merges")
    # an unbalanced tree: pairs merged out of order, then the pairs' merges
    # merged with the last shard (which alone holds a and d) first
    pairs = [run(["merge"], stdin=parts[i + 1] + parts[i]).stdout for i in (4, 2, 0)]
    compare_formula(ref, solve_json(parts[7] + parts[6] + b"".join(pairs)), 1e-11,
                    "merge of pairs")
    # the normal-equations solver: the same level alignment in its states
    nref = fit_json([form, "big.csv", "--solver", "normal"])
    nparts = shards("big.csv", 8, ["--formula", form, "--solver", "normal"])
    compare_formula(nref, solve_json(b"".join(random.Random(6).sample(nparts, 8))), 1e-11,
                    "8 ranges shuffled, --solver normal")
    # and the single pass is R's lm on all 1.1M rows (the answer, not only
    # self-consistency)
    r_check("big.csv", [form])


def forge(state, edit):
    """A state line edited by `edit` (on its dict) with a valid checksum."""
    import zlib
    d = json.loads(state)
    edit(d)
    d.pop("checksum", None)
    text = json.dumps(d, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    d["checksum"] = "crc32:%08x" % zlib.crc32(text.encode())
    return json.dumps(d, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode() + b"\n"


def t_state_levels_bad():
    """States with levels are checked on load (exit 6) and states of other
    formulas do not merge; a state that is fine loads."""
    gen_factors("f.csv", 2000, 32)
    form = "y ~ x * g + h"
    st = run(["fit", form, "--emit-state", "f.csv"]).stdout
    def lev(d, k, v):
        d["factors"][k]["levels"] = v
    cases = {
        "a level dropped": (lambda d: lev(d, 0, d["factors"][0]["levels"][1:]),
                            "its terms do not match its levels"),
        "a level added": (lambda d: lev(d, 0, d["factors"][0]["levels"] + ["zz"]),
                          "level 'zz' of 'g' has no column"),
        "a term twice": (lambda d: d["terms"].__setitem__(1, d["terms"][0]),
                         "two of its terms have the same name"),
        "a duplicate level": (lambda d: lev(d, 1, d["factors"][1]["levels"] * 2),
                              "a level of 'h' is listed twice"),
        "levels of a numeric variable": (
            lambda d: d["factors"].__setitem__(0, {"variable": "x", "levels": ["1", "2"]}),
            "levels for 'x', which is not the categorical variable 'g'"),
        "an extra list": (lambda d: d["factors"].append({"variable": "z", "levels": []}),
                          "it holds levels of 3 variables, but its formula has 2"),
        "x not text": (lambda d: d["formula"].__setitem__("text_columns", ["g"]),
                       "it holds levels of 2 variables, but its formula has 1"),
        "another formula": (lambda d: d["formula"].__setitem__("text", "y ~ x + g + h"),
                            "its terms do not match its levels"),
        "an unknown column": (lambda d: d["formula"].__setitem__("columns", ["y", "x", "g"]),
                              "its formula does not resolve against its columns"),
        "no formula": (lambda d: d.pop("formula"),
                       'needs "formula", "factors" and "selected"'),
        "a bad term": (lambda d: d["terms"].__setitem__(0, "nope"),
                       "its terms do not match its levels"),
    }
    for what, (edit, msg) in cases.items():
        for cmd in ("merge", "solve"):
            p = run([cmd], stdin=forge(st, edit), check=False)
            if p.returncode != 6 or msg.encode() not in p.stderr:
                fail("%s (%s): exit %d, %s (want 6, %s)" % (what, cmd, p.returncode, p.stderr, msg))
    # an unedited forge loads; another formula's state does not merge with it
    run(["solve"], stdin=forge(st, lambda d: None))
    other = run(["fit", "y ~ x + g + h", "--emit-state", "f.csv"]).stdout
    p = run(["merge"], stdin=st + other, check=False)
    if p.returncode != 6 or b'cannot merge: "formula"' not in p.stderr:
        fail("two formulas merged: exit %d %s" % (p.returncode, p.stderr))
    num = run(["fit", "-y", "y", "-x", "x", "--emit-state", "f.csv"]).stdout
    # version 3 (state17): "bounds" first; a state of -y/-x keeps version 1's
    # layout otherwise, with no "formula"
    if json.loads(num)["version"] != 3 or "formula" in json.loads(num):
        fail("a state without levels is not version 3 without a formula")
    p = run(["merge"], stdin=st + num, check=False)
    if p.returncode != 6:
        fail("a state with levels merged with a numeric one: exit %d" % p.returncode)
    # --subtract would leave a level without rows as a zero column: refused
    n1 = run(["fit", form, "--solver", "normal", "--range", "1/2", "--emit-state", "f.csv"]).stdout
    n2 = run(["fit", form, "--solver", "normal", "--range", "2/2", "--emit-state", "f.csv"]).stdout
    open("n2.st", "wb").write(n2)
    p = run(["merge", "--subtract", "n2.st"], stdin=n1 + n2, check=False)
    if p.returncode != 2 or b"cannot be subtracted yet" not in p.stderr:
        fail("--subtract of states with levels: exit %d %s" % (p.returncode, p.stderr))
    # a formula of transforms only: version 2's layout (version 3 since
    # state17) with no levels, chosen columns
    tr = run(["fit", "log(y + 100) ~ I(x^2) + sqrt(abs(x))", "--emit-state", "f.csv"]).stdout
    d = json.loads(tr)
    if d["version"] != 3 or d["factors"] != [] or d["selected"] is not True:
        fail("transform-only state: version %s factors %s selected %s"
             % (d["version"], d["factors"], d["selected"]))
    run(["solve"], stdin=forge(tr, lambda d: None))
    for what, edit, msg in (
            ("not selected", lambda d: d.__setitem__("selected", False),
             'a version 2 state without levels must have its columns "selected"'),
            ("a bad term", lambda d: d["terms"].__setitem__(0, "nope"),
             "its terms do not match its levels")):
        for cmd in ("merge", "solve"):
            p = run([cmd], stdin=forge(tr, edit), check=False)
            if p.returncode != 6 or msg.encode() not in p.stderr:
                fail("transform-only, %s (%s): exit %d, %s (want 6, %s)"
                     % (what, cmd, p.returncode, p.stderr, msg))
    print("%d forged states refused with exit 6" % len(cases))


TESTS = {k[2:]: v for k, v in globals().items() if k.startswith("t_")}
try:
    TESTS[TEST]()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
print("PASS", TEST)
