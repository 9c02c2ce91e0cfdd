import os
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# A reader that goes away (`csvreg predict ... | head -1`) ends every command
# quietly with exit 0, as the README says, so `set -o pipefail` scripts do not
# fail on it; predict stops reading its input there. A full disk is still an
# I/O error (exit 4). (cmd: a plain fit.)
tmp = tempfile.mkdtemp()
big = os.path.join(tmp, "big.csv")
with open(big, "w") as f:
    f.write("y,x1,x2\n")
    for i in range(200000):
        f.write(f"{i % 97 * 0.5 + i % 13 + (i * 7919 % 1000) / 1000},{i % 97},{i % 13}\n")
model = os.path.join(tmp, "m.json")
p = run("fit", "-y", "y", big, "-o", model)
if p.returncode:
    fail(f"fit -o: exit {p.returncode} {p.stderr}")
state = os.path.join(tmp, "s.json")
with open(state, "w") as f:
    p = subprocess.run([CSVREG, "fit", "-y", "y", big, "--emit-state"], stdout=f)
if p.returncode:
    fail(f"fit --emit-state: exit {p.returncode}")


def piped(args):
    """Runs csvreg ARGS | head -c 1 and returns csvreg's status and stderr."""
    proc = subprocess.Popen([CSVREG, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(1)
    proc.stdout.close()  # the reader goes away
    err = proc.stderr.read().decode()
    return proc.wait(), err


for args in (["predict", "-m", model, big],
             ["predict", "-m", model, "--interval", "prediction", big],
             ["eval", "-m", model, big],
             ["fit", "-y", "y", big],
             ["fit", "-y", "y", big, "--emit-state"],
             ["merge", state, state],
             ["solve", state]):
    status, err = piped(args)
    if status != 0 or err:
        fail(f"{' '.join(args[:1])} into a closed pipe: exit {status}, stderr {err!r}")

# predict stops at the closed pipe instead of reading the whole input: a
# 200000-row file with a bad row at the end still exits 0 (it never gets there).
with open(big, "a") as f:
    f.write("1,2,oops\n")
status, err = piped(["predict", "-m", model, big])
if status != 0 or err:
    fail(f"predict stopped at the closed pipe: exit {status}, stderr {err!r}")

with open("/dev/full", "w") as full:
    p = subprocess.run([CSVREG, "predict", "-m", model, big], stdout=full,
                       stderr=subprocess.PIPE, text=True)
if p.returncode != 4 or "No space left on device" not in p.stderr:
    fail(f"predict > /dev/full: exit {p.returncode}, stderr {p.stderr!r}")
finish()
