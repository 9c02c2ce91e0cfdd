import os
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Past `ulimit -f` (SIGXFSZ turned into EFBIG) every command that writes a file
# with -o fails the same way as `fit -o` (output_targets): exit 4 "File too
# large", the file that was there intact, no temporary file left beside it.
# (cmd: a plain fit.)
DATA = os.path.abspath("longley.csv")
tmp = tempfile.mkdtemp()


def capped(*args):
    # 1 block of 512 bytes: every output below is larger.
    return subprocess.run(["sh", "-c", 'ulimit -f 1; exec "$@"', "sh", CSVREG, *args],
                          capture_output=True, text=True)


def made(*args):
    p = run(*args)
    if p.returncode:
        fail(f"{' '.join(args)}: exit {p.returncode} {p.stderr}")


model = os.path.join(tmp, "m.json")
state = os.path.join(tmp, "s.state")
made("fit", "-y", "Employed", DATA, "-o", model, "--quiet")
made("fit", "-y", "Employed", DATA, "--emit-state", "-o", state)

cases = [
    ("predict -o", ["predict", "-m", model, DATA, "-o"]),
    ("merge -o", ["merge", state, "-o"]),
    ("solve -o", ["solve", state, "--quiet", "-o"]),
]
for name, args in cases:
    out = os.path.join(tmp, "old-" + name.split()[0])
    with open(out, "w") as f:
        f.write("the old output\n")
    p = capped(*args, out)
    if p.returncode != 4 or "File too large" not in p.stderr:
        fail(f"{name} past ulimit -f: exit {p.returncode} {p.stderr!r}")
    if open(out).read() != "the old output\n":
        fail(f"{name} past ulimit -f changed the old file")
    left = [n for n in os.listdir(tmp) if ".tmp." in n]
    if left:
        fail(f"{name} past ulimit -f left temporary files: {left}")
    # Without the cap the same command writes the file: the cap is what failed it.
    p = run(*args, out)
    if p.returncode or open(out).read() == "the old output\n":
        fail(f"{name} without the cap: exit {p.returncode} {p.stderr!r}")
finish()
