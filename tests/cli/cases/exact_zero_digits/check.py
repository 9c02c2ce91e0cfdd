import json
import os
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# A coefficient computed as exactly 0 does not claim "0 correct digits"
# (audit, a false ill-conditioning warning): an exact fit y = x whose z
# effect is exactly 0 (condition number 1.7), and a relevel'd factor with no
# intercept whose level effects are exact, fit without a warning on both
# solvers, and the estimate of the digits is a well-conditioned one (> 12).
# A zero intercept next to nonzero slopes is judged the same way.
tmp = tempfile.mkdtemp()
ex = os.path.join(tmp, "ex.csv")
open(ex, "w").write("y,x,z\n1,1,0\n2,2,1\n3,3,0\n4,4,1\n5,5,0\n6,6,1\n")
lv = os.path.join(tmp, "lv.csv")
with open(lv, "w") as f:
    f.write("y,a,g\n")
    for i in range(12):
        g = "pqr"[i % 3]
        f.write(f"{2 * i + {'p': 1, 'q': 0, 'r': 3}[g]},{i},{g}\n")
cases = [(["-y", "y", "-x", "x,z", ex], "z"),
         (["y ~ x + z + 0", ex], "z"),
         (['y ~ relevel(g, ref = "q") + a + 0', lv], None),
         (['y ~ relevel(g, ref = "q") + a', lv], None)]
for args, zero in cases:
    for solver in ("qr", "normal"):
        p = run("fit", *args, "--solver", solver, "--format", "json")
        what = f"{' '.join(args[:-1])} --solver {solver}"
        if p.returncode or p.stderr:
            fail(f"{what}: exit {p.returncode}, stderr {p.stderr!r}")
            continue
        got = json.loads(p.stdout)
        est = {t["name"]: t["estimate"] for t in got["terms"]}
        if zero and est[zero] != 0:
            print(f"{what}: {zero} = {est[zero]!r} (not exactly 0 here)")
        digits = got["estimated_digits"] if "estimated_digits" in got else got.get("digits")
        if digits is None or not digits > 12:
            fail(f"{what}: estimated digits {digits}, estimates {est}")
        print(f"{what}: digits {digits}, estimates {est}")
    p = run("fit", *args)
    if p.returncode or p.stderr or "Warning" in p.stdout:
        fail(f"{' '.join(args)}: text report warns: {p.stderr!r}")
shutil.rmtree(tmp)
finish()
