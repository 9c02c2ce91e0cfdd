import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# --skip-bad with a formula (issue 16): rows dropped for a bad cell and rows
# dropped for a non-finite term (log of a value <= 0, known only when the
# chunk's design is computed) are named in input order, in the --bad-rows
# file and on standard error, for fit, eval and predict, with --threads 1..4
# on a file (byte ranges) and on standard input (blocks), chunk sizes 7, 50
# and the default. Before, a chunk's non-finite rows came after its bad
# cells, so the order depended on where the chunks (and the threads' pieces)
# were cut.
tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
lines = ["y,x"]
want = []
for i in range(4000):
    ln = len(lines) + 1
    k = (i * 7919) % 100
    if k < 3:
        lines.append(f"{i},oops{i}")
        want.append([str(ln), "x", f'expected a number, found "oops{i}"', f"{i},oops{i}"])
    elif k < 6:
        lines.append(f"{i},-{i % 7 + 1}")
        want.append([str(ln), "x", f"log(x) is NaN where x = -{i % 7 + 1}", ""])
    elif k < 7:
        lines.append(f"{i},0")
        want.append([str(ln), "x", "log(x) is -Inf where x = 0", ""])
    elif k < 8:
        lines.append(f"{i},1,2")
        want.append([str(ln), "", "expected 2 fields, found 3", f"{i},1,2"])
    else:
        lines.append(f"{2 * i + 1 + k % 5},{i % 50 + 1}")
with open(data, "w") as f:
    f.write("\n".join(lines) + "\n")
want = [["line", "column", "reason", "text"]] + want
model = os.path.join(tmp, "m.json")
p = run("fit", "-f", "y ~ log(x)", "--skip-bad", "--quiet", "-o", model, data)
if p.returncode:
    fail(f"fit: {p.returncode} {p.stderr}")


def warned(stderr, source):
    got = [ln for ln in stderr.splitlines() if "skipped" in ln]
    exp = []
    for r in want[1:6]:
        col = f"column {r[1]}: " if r[1] else ""
        exp.append(f"csvreg: warning: {source}:{r[0]}: {col}{r[2]} (row skipped)")
    exp.append(f"csvreg: warning: ... and {len(want) - 6} more skipped rows")
    return got == exp, got, exp


n = 0
for cmd in (["fit", "-f", "y ~ log(x)", "--quiet"], ["eval", "-m", model, "--quiet"],
            ["predict", "-m", model]):
    for threads in (1, 2, 3, 4):
        for stdin in (False, True):
            for chunk in (None, 7, 50):
                if cmd[0] == "predict" and threads > 1:
                    continue
                n += 1
                out = os.path.join(tmp, f"bad{n}.csv")
                args = [*cmd, "--skip-bad", "--bad-rows", out]
                if threads > 1:
                    args += ["--threads", str(threads)]
                if chunk:
                    args += ["--chunk-rows", str(chunk)]
                env = dict(os.environ, CSVREG_STDIN_BLOCK="8192")
                if stdin:
                    with open(data) as f:
                        q = subprocess.run([CSVREG, *args, "-"], stdin=f, capture_output=True,
                                           text=True, env=env)
                else:
                    q = subprocess.run([CSVREG, *args, data], capture_output=True, text=True,
                                       env=env)
                what = f"{cmd[0]} threads {threads} stdin {stdin} chunk {chunk}"
                if q.returncode:
                    fail(f"{what}: exit {q.returncode} {q.stderr}")
                    continue
                got = read_csv(out)
                if got != want:
                    bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                               min(len(got), len(want)))
                    fail(f"{what}: --bad-rows differs at row {bad}: "
                         f"{got[bad:bad + 2]} want {want[bad:bad + 2]}")
                ok, g, e = warned(q.stderr, "<stdin>" if stdin else data)
                if not ok:
                    fail(f"{what}: stderr\n{g}\nwant\n{e}")
shutil.rmtree(tmp)
finish()
