import os
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# --skip-bad names what it skips (issue 16): the first 5 rows on standard
# error as FILE:LINE: column NAME: reason, then "... and N more"; all of them
# with --bad-rows FILE (line,column,reason,text; the text re-quoted), for fit
# predict and eval, in input order; the file is atomic (a later error leaves
# none); --bad-rows needs --skip-bad. With --threads 1..4 (ranges of a file
# and blocks of a stream) the file and the messages are one thread's.
# Plurals: "1 observation", "1 row".
tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
lines = ["y,x"]
bad = {}
for i in range(300):
    ln = len(lines) + 1
    if i in (3, 50, 51, 52, 60, 61, 70, 250):
        lines.append(f"{i},oops{i}")
        bad[ln] = ("x", f'expected a number, found "oops{i}"', f"{i},oops{i}")
    elif i == 100:
        lines.append("1,2,3")
        bad[ln] = ("", "expected 2 fields, found 3", "1,2,3")
    elif i == 101:
        lines.append('5,"a,""b"""')
        bad[ln] = ("x", 'expected a number, found "a,\\"b\\""', '5,"a,""b"""')
    else:
        lines.append(f"{2 * i + (i % 3)},{i}")
with open(data, "w") as f:
    f.write("\n".join(lines) + "\n")
model = os.path.join(tmp, "m.json")
for cmd in (["fit", "-y", "y", "-x", "x", "-o", model], ["predict", "-m", model],
            ["eval", "-m", model]):
    out = os.path.join(tmp, cmd[0] + "_bad.csv")
    p = run(*cmd, "--skip-bad", data, "--bad-rows", out, "--chunk-rows", "7")
    if p.returncode:
        fail(f"{cmd[0]}: exit {p.returncode} {p.stderr}")
        continue
    want_err = [f"csvreg: warning: {data}:{ln}: " + (f"column {c}: " if c else "") +
                f"{r} (row skipped)" for ln, (c, r, t) in sorted(bad.items())[:5]]
    want_err.append(f"csvreg: warning: ... and {len(bad) - 5} more skipped rows")
    got_err = [ln for ln in p.stderr.splitlines() if "skipped" in ln]
    if got_err != want_err:
        fail(f"{cmd[0]} stderr:\n{got_err}\nwant\n{want_err}")
    rows = read_csv(out)
    want = [["line", "column", "reason", "text"]] + [[str(ln), c, r, t] for ln, (c, r, t)
                                                     in sorted(bad.items())]
    if rows != want:
        fail(f"{cmd[0]} --bad-rows:\n{rows}\nwant\n{want}")
# an error after skipped rows: no --bad-rows file
late = os.path.join(tmp, "late.csv")
with open(late, "w") as f:
    f.write("\n".join(lines) + "\n1,NA\n")
out = os.path.join(tmp, "late_bad.csv")
p = run("predict", "-m", model, "--skip-bad", "--na-policy", "error", late, "--bad-rows", out)
if p.returncode != 3 or os.path.exists(out):
    fail(f"late error: exit {p.returncode}, file left {os.path.exists(out)}")
if [f for f in os.listdir(tmp) if f.startswith(".")]:
    fail("temporary file left")
# usage
for args in (["fit", "-y", "y", data, "--bad-rows", out],
             ["predict", "-m", model, data, "--bad-rows", out],
             ["eval", "-m", model, data, "--bad-rows", out],
             ["eval", "-m", model, data, "--skip-bad", "--bad-rows", ""]):
    p = run(*args)
    if p.returncode != 2:
        fail(f"{args}: exit {p.returncode}, want 2")
# threads: a file of ~400 KB cut in up to 4 ranges (64 KiB at least each),
# and as a stream in blocks; bad rows near the cuts and in every piece; a
# second file whose bad rows (~2 MB as kept) pass the 256 KiB a piece keeps
# in memory, so its pieces go through their temporary files.
import random  # noqa: E402
rnd = random.Random(16)


def row_big(i, x):
    if i % 613 == 5 or 9990 <= i <= 10010 or 19995 <= i <= 20005:
        return f"{i},bad{i}"
    if i % 1777 == 9:
        return "1,2,3"
    return f"{2 * x + rnd.gauss(0, 1):.6f},{x:.6f}"


xs = [rnd.uniform(0, 100) for _ in range(40000)]
big, many = os.path.join(tmp, "big.csv"), os.path.join(tmp, "many.csv")
for path, rows in ((big, [row_big(i, x) for i, x in enumerate(xs)]),
                   (many, [f"{x:.3f},{'oops' + 'z' * 40 if i % 3 == 1 else x}"
                           for i, x in enumerate(xs)])):
    with open(path, "w") as f:
        f.write("y,x\n" + "\n".join(rows) + "\n")
for path in (big, many):
    for cmd in (["fit", "-y", "y", "-x", "x"], ["eval", "-m", model]):
        runs = []
        for t in ("1", "2", "3", "4"):
            out = os.path.join(tmp, f"t{t}.csv")
            p = run(*cmd, "--skip-bad", path, "--bad-rows", out, "--threads", t)
            if p.returncode:
                fail(f"{cmd[0]} --threads {t}: exit {p.returncode} {p.stderr}")
                continue
            with open(out) as f:
                runs.append((t, f.read(), [ln for ln in p.stderr.splitlines() if "skipped" in ln]))
        # a stream, cut in blocks: the same rows, named <stdin>
        with open(path) as f:
            text = f.read()
        for t in ("1", "3"):
            out = os.path.join(tmp, f"s{t}.csv")
            p = run(*cmd, "--skip-bad", "-", "--bad-rows", out, "--threads", t, input=text)
            if p.returncode:
                fail(f"{cmd[0]} stdin --threads {t}: exit {p.returncode} {p.stderr}")
                continue
            with open(out) as f:
                runs.append(("stdin " + t, f.read(), [ln.replace("<stdin>", path) for ln in
                                                      p.stderr.splitlines() if "skipped" in ln]))
        for t, body, err in runs[1:]:
            if body != runs[0][1]:
                fail(f"{cmd[0]} {os.path.basename(path)} --threads {t}: --bad-rows differs")
            if err != runs[0][2]:
                fail(f"{cmd[0]} {os.path.basename(path)} --threads {t}: stderr {err} want {runs[0][2]}")
        if len(runs[0][2]) != 6 or runs[0][1].count("\n") < 60:
            fail(f"{cmd[0]} {os.path.basename(path)}: {runs[0][2]}")
# plurals
one = os.path.join(tmp, "one.csv")
with open(one, "w") as f:
    f.write("y,x,w\n1,1,1\n2,2.5,1\n3,2.9,1\n4,4.2,1\nNA,5,1\n6,x,1\n7,7,0\n")
p = run("fit", "-y", "y", "-x", "x", "-w", "w", "--skip-bad", one)
for want in ("(1 observation deleted due to missingness)",
             "(1 row with a bad value or the wrong number of fields skipped)",
             "(1 observation with zero weight not used)"):
    if want not in p.stdout:
        fail(f"plural: {want!r} not in {p.stdout}")
finish()
