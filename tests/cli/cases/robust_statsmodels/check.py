import json
import os
import random
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit --vcov against statsmodels (issue 13: "and statsmodels' cov_type='HC1'
# where python3-statsmodels agrees with R"): OLS(...).fit(cov_type = HC0 ..
# HC3, and "cluster" with its default small-sample correction, which is
# vcovCL's HC1), WLS for a weighted HC1 fit; standard errors to 1e-9
# relative, on generated heteroskedastic data with 23 clusters.
# (cmd: fit --help, unused.)
try:
    import numpy as np
    import statsmodels.api as sm
except ImportError as e:
    fail(f"python3-statsmodels is needed ({e}); CI installs it")
    finish()

tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "h.csv")
rnd = random.Random(11)
rows = []
for i in range(800):
    x1, x2 = rnd.gauss(0, 1), rnd.uniform(-1, 4)
    g = i % 23
    w = round(rnd.uniform(0.5, 2), 3)
    y = 0.5 + 1.5 * x1 - 0.7 * x2 + rnd.gauss(0, 1) * (0.3 + abs(x1))
    rows.append((f"{y:.9f}", f"{x1:.9f}", f"{x2:.9f}", f"g{g}", f"{w}"))
with open(data, "w") as o:
    o.write("y,x1,x2,g,w\n")
    for r in rows:
        o.write(",".join(r) + "\n")
Y = np.array([float(r[0]) for r in rows])
X = sm.add_constant(np.array([[float(r[1]), float(r[2])] for r in rows]))
G = np.array([int(r[3][1:]) for r in rows])
W = np.array([float(r[4]) for r in rows])


def csvreg_se(*args):
    p = run("fit", "-y", "y", "-x", "x1,x2", *args, data, "--format", "json")
    if p.returncode:
        fail(f"{args}: exit {p.returncode} {p.stderr}")
        return None
    return [t["std_error"] for t in json.loads(p.stdout)["terms"]]


cases = [(f"HC{k}", ["--vcov", f"HC{k}"], sm.OLS(Y, X).fit(cov_type=f"HC{k}")) for k in range(4)]
cases.append(("cluster", ["--vcov", "cluster", "--cluster", "g"],
              sm.OLS(Y, X).fit(cov_type="cluster", cov_kwds={"groups": G})))
cases.append(("weighted HC1", ["--vcov", "HC1", "-w", "w"], sm.WLS(Y, X, weights=W).fit(cov_type="HC1")))
for name, args, res in cases:
    got = csvreg_se(*args)
    if got is None:
        continue
    for t, a, b in zip(("(Intercept)", "x1", "x2"), got, res.bse):
        rel_close(a, float(b), 1e-9, f"{name} {t} std. error against statsmodels")
finish()
