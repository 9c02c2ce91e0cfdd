import os
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# predict -o FILE (issue 17 item 6): the output equals standard output's; an
# error late in the input leaves no file (nor a temporary one) and an old
# file as it was; a missing column leaves none either.
tmp = tempfile.mkdtemp()
model = os.path.join(tmp, "m.json")
good = os.path.join(tmp, "good.csv")
bad = os.path.join(tmp, "bad.csv")
with open(good, "w") as g, open(bad, "w") as b:
    g.write("y,x\n")
    b.write("y,x\n")
    for i in range(5000):
        g.write(f"{i % 7 + 0.5 * i},{i}\n")
        b.write(f"{i % 7 + 0.5 * i},{i}\n")
    b.write("1,oops\n")
p = run("fit", "-y", "y", "-x", "x", good, "-o", model)
if p.returncode:
    fail(f"fit: {p.stderr}")
    finish()
out = os.path.join(tmp, "scored.csv")
ref = run("predict", "-m", model, good)
p = run("predict", "-m", model, good, "-o", out)
if p.returncode or p.stdout or open(out).read() != ref.stdout:
    fail(f"-o: exit {p.returncode}, file differs from stdout's")
# an error at the last line: exit 3, the old file intact, no temporary file
old = open(out).read()
p = run("predict", "-m", model, bad, "-o", out, "--chunk-rows", "100")
if p.returncode != 3 or "bad.csv:5002:" not in p.stderr:
    fail(f"late error: exit {p.returncode} {p.stderr}")
if open(out).read() != old:
    fail("late error: the old file changed")
new = os.path.join(tmp, "new.csv")
p = run("predict", "-m", model, bad, "-o", new, "--chunk-rows", "100")
if p.returncode != 3 or os.path.exists(new):
    fail(f"late error: exit {p.returncode}, new file made: {os.path.exists(new)}")
# a missing column: no file
nox = os.path.join(tmp, "nox.csv")
with open(nox, "w") as f:
    f.write("y,z\n1,2\n")
p = run("predict", "-m", model, nox, "-o", new)
if p.returncode == 0 or os.path.exists(new):
    fail(f"missing column: exit {p.returncode}, file made: {os.path.exists(new)}")
left = sorted(f for f in os.listdir(tmp) if f.startswith("."))
if left:
    fail(f"temporary files left: {left}")
finish()
