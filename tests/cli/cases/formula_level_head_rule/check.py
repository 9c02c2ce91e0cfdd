import json
import os
import random
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# headcols12c (issue 12): when the level head takes a factor, and the head's
# indicator columns left out of the chunk's design block.
# - Two factors, the larger with fewer than 64 levels in the first chunk (as
#   the 10/100-level bench file, whose c100 levels come late): no head by
#   default, so the default fit is the dense path's bits (CSVREG_LEVEL_HEAD=0);
#   CSVREG_LEVEL_HEAD=1 forces the head (other bits, within 1e-11).
# - Two factors, one of 80 levels from the first rows: the head takes it by
#   default (other bits than the dense path, within 1e-11), at chunk sizes 7
#   and the default and from stdin with --threads 2 (many 1 MiB blocks: a
#   worker's chunk keeps leaving the head's columns out from piece to piece).
# (stdout: fit --help, unused.)
tmp = tempfile.mkdtemp()
N = 60000
rng = random.Random(7)
data = os.path.join(tmp, "rule.csv")
with open(data, "w") as f:
    f.write("x1,g,h,big,y\n")
    for i in range(N):
        g = rng.randrange(10)
        h = rng.randrange(min(100, i * 100 // N + 1))  # levels arrive through the file
        b = rng.randrange(80)
        x1 = rng.uniform(-5, 5)
        y = 1 + 0.5 * x1 + 0.3 * g + 0.01 * h + ((b * 37) % 11) * 0.2 + rng.gauss(0, 1)
        f.write(f"{x1:.6f},g{g},h{h:02d},b{b:02d},{y:.6f}\n")


def fit(formula, *opts, head=None, stdin=None):
    env = dict(os.environ)
    env.pop("CSVREG_LEVEL_HEAD", None)
    if head is not None:
        env["CSVREG_LEVEL_HEAD"] = head
    p = subprocess.run([CSVREG, "fit", formula, "-" if stdin else data, "--format", "json",
                        *opts], capture_output=True, text=True, env=env, input=stdin)
    if p.returncode:
        fail(f"{formula} {opts}: exit {p.returncode} {p.stderr}")
        return None
    return {t["name"]: (t["estimate"], t["std_error"]) for t in json.loads(p.stdout)["terms"]}


def near(got, want, tol, what):
    if got is None or want is None:
        return
    if set(got) != set(want):
        fail(f"{what}: terms differ")
        return
    for n in want:
        for a, b in zip(got[n], want[n]):
            if abs(a - b) > tol * max(abs(b), want[n][1]):
                fail(f"{what}: {n} {a!r} vs {b!r} (tolerance {tol})")


small = "y ~ x1 + g + h"
dense = fit(small, head="0")
default = fit(small)
if default != dense:
    fail(f"{small}: the default is not the dense path's bits (did the head take g, 10 levels?)")
forced = fit(small, head="1")
if forced == dense:
    fail(f"{small}: CSVREG_LEVEL_HEAD=1 gave the dense path's bits (no head?)")
near(forced, dense, 1e-11, f"{small}: forced head vs dense")

wide = "y ~ x1 + big + g"
dense = fit(wide, head="0")
for opts in ((), ("--chunk-rows", "7")):
    got = fit(wide, *opts)
    near(got, dense, 1e-11, f"{wide} {opts}: head vs dense")
got = fit(wide)
if got == dense:
    fail(f"{wide}: the default gave the dense path's bits (did the head take big, 80 levels?)")
with open(data) as f:
    text = f.read()
near(fit(wide, "--threads", "2", stdin=text), dense, 1e-11, f"{wide}: stdin --threads 2")
near(fit(wide, "--threads", "2", "--chunk-rows", "7", stdin=text), dense, 1e-11,
     f"{wide}: stdin --threads 2 --chunk-rows 7")
finish()
