import os
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit's first argument is a formula when it holds a '~'; a file whose name
# holds one (an editor's backup 'data.csv~', 'a~b.csv') is read when written
# as a path: './NAME', '../DIR/NAME' or '/DIR/NAME' (no formula starts so),
# with -y, with a formula and with -f. Written bare with -y, the usage error
# says how (exit 2). (stdout: fit --help, unused.)
tmp = tempfile.mkdtemp()
data = b"y,x\n1,2\n2,3.5\n3,4.1\n4,6\n"
plain = os.path.join(tmp, "plain.csv")
open(plain, "wb").write(data)
os.mkdir(os.path.join(tmp, "sub"))
for name in ["data.csv~", "a~b.csv"]:
    open(os.path.join(tmp, name), "wb").write(data)
want = run("fit", "-y", "y", plain).stdout
want_f = run("fit", "y ~ x", plain).stdout
sub = os.path.join(tmp, "sub")
for name in ["data.csv~", "a~b.csv"]:
    for path, cwd in [("./" + name, tmp), ("../" + name, sub), (os.path.join(tmp, name), None)]:
        for args, w in [(["-y", "y", path], want), (["y ~ x", path], want_f),
                        (["-f", "y ~ x", path], want_f)]:
            p = run("fit", *args, cwd=cwd)
            if p.returncode != 0 or p.stdout != w:
                fail(f"fit {args} (in {cwd}): exit {p.returncode} {p.stderr!r}")
    p = run("fit", "-y", "y", name, cwd=tmp)
    if p.returncode != 2 or "write ./NAME" not in p.stderr:
        fail(f"fit -y y {name}: exit {p.returncode} {p.stderr!r}, want 2 and the ./NAME hint")
# a formula is still a formula
p = run("fit", "y ~ x", "-y", "y", plain)
if p.returncode != 2 or "not with -y or -x" not in p.stderr:
    fail(f"formula and -y: exit {p.returncode} {p.stderr!r}")
shutil.rmtree(tmp)
finish()
