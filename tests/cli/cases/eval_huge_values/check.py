import json
import math
import os
import subprocess
import sys
import tempfile
from fractions import Fraction
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# eval with |y| near DBL_MAX: every metric that is finite is reported (MAE,
# RMSE, max error, mean error, R^2), equal to exact rational arithmetic; only
# the MSE, truly past DBL_MAX, is NA. Also split over threads and chunks (the
# evaluators merge at different scales). (cmd: a plain fit, for reference.)
tmp = tempfile.mkdtemp()
train = os.path.join(tmp, "train.csv")
with open(train, "w") as f:
    f.write("y,x\n1,1\n2,2.5\n3,2.9\n4,4.2\n")
model = os.path.join(tmp, "m.json")
p = run("fit", "-y", "y", train, "-o", model, "--quiet")
if p.returncode:
    fail(f"fit: {p.stderr}")
test = os.path.join(tmp, "test.csv")
ys = [1e308, -1e308, 1.5e308, -1.2e308, 3.0, 1e-300] + [1.7e308 * (-1) ** i for i in range(40)]
with open(test, "w") as f:
    f.write("y,x\n")
    for i, y in enumerate(ys):
        f.write(f"{y!r},{i % 5}\n")
p = run("predict", "-m", model, "--only", test)
if p.returncode:
    fail(f"predict: {p.stderr}")
yhat = [float(v) for v in p.stdout.split()[1:]]
n = len(ys)
d = [Fraction(a) - Fraction(b) for a, b in zip(ys, yhat)]
want = {
    "mae": float(sum(abs(x) for x in d) / n),
    "rmse": math.sqrt(float(sum(x * x for x in d) / n / 2**1200)) * 2.0**600,
    "max_error": float(max(abs(x) for x in d)),
    "mean_error": float(sum(d) / n),
}
ybar = sum(Fraction(y) for y in ys) / n
want["r_squared"] = float(1 - sum(x * x for x in d) / sum((Fraction(y) - ybar) ** 2 for y in ys))
for extra in ([], ["--threads", "3"], ["--chunk-rows", "7"]):
    p = run("eval", "-m", model, test, "--format", "json", *extra)
    if p.returncode:
        fail(f"eval {extra}: exit {p.returncode} {p.stderr}")
        continue
    got = json.loads(p.stdout)
    m = got.get("metrics", got)
    if m.get("mse") is not None:
        fail(f"eval {extra}: mse {m.get('mse')}, expected null (past DBL_MAX)")
    for k, v in want.items():
        if m.get(k) is None:
            fail(f"eval {extra}: {k} is null, expected {v}")
        elif k == "r_squared":
            # 1 - sse/sst with sse/sst ~ 1: compare the ratio, not its tiny difference from 1.
            if abs(m[k] - v) > 1e-15:
                fail(f"eval {extra} r_squared: got {m[k]}, want {v}")
        else:
            rel_close(m[k], v, 1e-12, f"eval {extra} {k}")
finish()
