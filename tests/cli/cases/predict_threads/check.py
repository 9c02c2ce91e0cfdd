import os
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# predict --threads N (issue 14) reads through the library's pass engine: a
# file in byte ranges, a stream in blocks, one sink a piece, merged in input
# order; the first piece writes straight out, later ones spool. The output
# must be the same bytes as one thread's: on a file and on standard input,
# with quoted newlines that straddle the cuts, in pieces of 64 KiB
# (CSVREG_PIECE_BYTES: a file is read in many small pieces that start at a
# guessed record boundary, checked when merged), with -o, the row statistics
# and intervals, --only, --skip-bad and --bad-rows; a bad cell late in the
# file fails with one thread's message and exit code, and -o then leaves no
# file; rows longer than an output buffer keep their place. (stdout: the
# command's plain predict, for reference.)


SMALL = dict(os.environ, CSVREG_PIECE_BYTES="65536")


def go(args, stdin=None, env=None):
    if stdin:
        with open(stdin, "rb") as f:
            return subprocess.run([CSVREG, *args], stdin=f, capture_output=True, env=env)
    return subprocess.run([CSVREG, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          env=env)


def write_data(path, bad_every=0, bad_at=None, rows=25000):
    with open(path, "w", newline="") as f:
        f.write('y,x1,"x,2",w,note\n')
        for i in range(1, rows + 1):
            x1, x2 = (i * 37) % 101 / 7.0, (i * 11) % 53 / 3.0
            y = 1.5 + 0.25 * x1 - 0.75 * x2 + ((i * 7919) % 97 - 48) / 50.0
            w = str(1 + i % 3)
            y = "NA" if i % 1009 == 0 else repr(y)
            # a quoted note with line ends and delimiters on every third row:
            # cuts at line ends land inside quotes
            note = f'"row {i}\nsays ""hi"", twice\r\nend"' if i % 3 == 0 else f"n{i}"
            sx1 = repr(x1)
            if (bad_every and i % bad_every == 0) or i == bad_at:
                sx1 = "abc"
            f.write(f'{y},{sx1},"{x2!r}",{w},{note}\n')


with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "d.csv")
    write_data(data)
    model = os.path.join(tmp, "m.json")
    p = go(["fit", "-y", "y", "-x", "2,3", "-w", "w", "-o", model, "--quiet", data])
    if p.returncode:
        fail(f"fit: {p.returncode} {p.stderr}")
        finish()
    variants = [
        [],
        ["--only"],
        ["--residuals", "--leverage", "--rstandard", "--cooks"],
        ["--interval", "prediction", "-w", "w", "--chunk-rows", "7"],
    ]
    for extra in variants:
        one = go(["predict", "-m", model, "--quiet", *extra, data])
        if one.returncode or len(one.stdout) < 100000:
            fail(f"predict {extra}: {one.returncode} {one.stderr}")
            continue
        for n in ("1", "2", "3", "4", "0") if not extra else ("2", "3"):
            for src, stdin, env in ((data, None, None), ("-", data, None), (data, None, SMALL)):
                q = go(["predict", "-m", model, "--quiet", "--threads", n, *extra, src], stdin,
                       env)
                if q.returncode or q.stdout != one.stdout or q.stderr != one.stderr:
                    fail(f"predict --threads {n} {extra} {src} {env is SMALL}: exit "
                         f"{q.returncode}, {len(q.stdout)} bytes against {len(one.stdout)}, "
                         f"{q.stderr!r}")
    # -o: the same file, written atomically
    ref = go(["predict", "-m", model, "--quiet", "--cooks", data]).stdout
    for n, env in (("1", None), ("3", None), ("3", SMALL)):
        out = os.path.join(tmp, f"o{n}.csv")
        q = go(["predict", "-m", model, "--quiet", "--cooks", "--threads", n, "-o", out, data],
               env=env)
        with open(out, "rb") as f:
            if q.returncode or q.stdout or f.read() != ref:
                fail(f"-o --threads {n}: {q.returncode} {q.stderr!r}")
    # --skip-bad and --bad-rows: the same rows, the same report, in order
    bad = os.path.join(tmp, "bad.csv")
    write_data(bad, bad_every=997)
    one_rows = os.path.join(tmp, "bad1.csv")
    one = go(["predict", "-m", model, "--quiet", "--skip-bad", "--bad-rows", one_rows, bad])
    with open(one_rows, "rb") as f:
        want_rows = f.read()
    if one.returncode or want_rows.count(b"\n") < 40:
        fail(f"skip-bad: {one.returncode} {one.stderr!r}")
    for n in ("2", "4"):
        for src, stdin, env in ((bad, None, None), ("-", bad, None), (bad, None, SMALL)):
            rows = os.path.join(tmp, f"bad{n}.csv")
            q = go(["predict", "-m", model, "--quiet", "--skip-bad", "--bad-rows", rows,
                    "--threads", n, src], stdin, env)
            with open(rows, "rb") as f:
                got_rows = f.read()
            if src == "-":  # the report names the input
                got_rows = got_rows.replace(b"<stdin>", os.path.basename(bad).encode())
            q_err = q.stderr.replace(b"<stdin>", bad.encode())
            if q.returncode or q.stdout != one.stdout or q_err != one.stderr or \
                    got_rows != want_rows:
                fail(f"skip-bad --threads {n} {src}: {q.returncode} {q.stderr!r}")
    # a bad cell late in the file: the same message and exit code; -o leaves no file
    late = os.path.join(tmp, "late.csv")
    write_data(late, bad_at=24000)
    one = go(["predict", "-m", model, "--quiet", late])
    if one.returncode != 3 or b"abc" not in one.stderr:
        fail(f"late error: {one.returncode} {one.stderr!r}")
    full = go(["predict", "-m", model, "--quiet", "--skip-bad", late]).stdout
    for n in ("2", "4"):
        for src, stdin, env in ((late, None, None), ("-", late, None), (late, None, SMALL)):
            q = go(["predict", "-m", model, "--quiet", "--threads", n, src], stdin, env)
            q_err = q.stderr.replace(b"<stdin>", late.encode())
            if q.returncode != one.returncode or q_err != one.stderr:
                fail(f"late error --threads {n} {src}: {q.returncode} {q.stderr!r}")
            # what is written before the error is a prefix of one thread's rows
            if not full.startswith(q.stdout):
                fail(f"late error --threads {n} {src}: the rows written are not in order")
            out = os.path.join(tmp, "late_out.csv")
            q = go(["predict", "-m", model, "--quiet", "--threads", n, "-o", out, src], stdin,
                   env)
            if q.returncode != one.returncode or os.path.exists(out) or \
                    [x for x in os.listdir(tmp) if x.startswith(".late_out")]:
                fail(f"late error -o --threads {n} {src}: {q.returncode}, a file was left")
    # A file whose output is far larger than a spool's memory: its pieces are
    # small, so the rows waiting for their turn stay in memory and no
    # temporary file is made (TMPDIR that cannot hold one: one piece per
    # thread sent ~6 MB, the second half, there and failed).
    big = os.path.join(tmp, "big.csv")
    with open(big, "w") as f:
        f.write("y,x1,x2\n")
        for i in range(1, 300001):
            f.write(f"{i % 89 / 7:.4f},{i % 101 / 7:.4f},{i % 53 / 3:.4f}\n")
    bigm = os.path.join(tmp, "big.json")
    go(["fit", "-y", "y", "-o", bigm, "--quiet", big])
    one = go(["predict", "-m", bigm, "--quiet", big])
    if one.returncode or len(one.stdout) < 10_000_000:
        fail(f"big: {one.returncode} {one.stderr!r}")
    no_tmp = dict(os.environ, TMPDIR=os.path.join(tmp, "no-such-dir"))
    for n in ("2", "3"):
        q = go(["predict", "-m", bigm, "--quiet", "--threads", n, big], env=no_tmp)
        if q.returncode or q.stdout != one.stdout:
            fail(f"big --threads {n}: {q.returncode} {q.stderr!r}")
    # Rows longer than an output buffer (256 KiB) are written straight from
    # the chunk: a later piece copies them, and everything after them, into
    # its spool behind the buffers it handed over whole; the order holds.
    longf = os.path.join(tmp, "long.csv")
    with open(longf, "w") as f:
        f.write("y,x1,x2,note\n")
        for i in range(1, 4001):
            note = "z" * 300000 if i % 700 == 350 else f"n{i}"
            f.write(f"{i % 89 / 7:.4f},{i % 101 / 7:.4f},{i % 53 / 3:.4f},{note}\n")
    longm = os.path.join(tmp, "long.json")
    go(["fit", "-y", "y", "-x", "x1,x2", "-o", longm, "--quiet", longf])
    one = go(["predict", "-m", longm, "--quiet", longf])
    if one.returncode or len(one.stdout) < 1_500_000:
        fail(f"long rows: {one.returncode} {one.stderr!r}")
    for n in ("2", "3"):
        for src, stdin, env in ((longf, None, SMALL), ("-", longf, None)):
            q = go(["predict", "-m", longm, "--quiet", "--threads", n, src], stdin, env)
            if q.returncode or q.stdout != one.stdout:
                fail(f"long rows --threads {n} {src}: {q.returncode} {q.stderr!r}")
finish()
