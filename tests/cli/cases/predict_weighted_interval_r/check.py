import os
import random
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Prediction intervals of a weighted model (issue 16): without -w, R's
# predict.lm warning on standard error and weight 1 (R's bounds with its
# warning); with -w COL the new rows' weights, as predict.lm(weights=)
# (1e-10 relative); a row with no weight gets an empty interval; a weight
# <= 0 is an error; confidence intervals and unweighted models do not warn.
require_r()
tmp = tempfile.mkdtemp()
rng = random.Random(17)
train = os.path.join(tmp, "train.csv")
new = os.path.join(tmp, "new.csv")
with open(train, "w") as f:
    f.write("y,x,g,w\n")
    for i in range(120):
        x, g, w = rng.uniform(0, 10), rng.choice("ab"), rng.uniform(0.5, 3)
        f.write(f"{1 + 0.7 * x + (g == 'b') + rng.gauss(0, 1) / w ** 0.5!r},{x!r},{g},{w!r}\n")
with open(new, "w") as f:
    f.write("x,g,nw\n")
    for i in range(20):
        f.write(f"{rng.uniform(0, 10)!r},{rng.choice('ab')},{rng.uniform(0.2, 5)!r}\n")
model = os.path.join(tmp, "m.json")
p = run("fit", "y ~ x + factor(g)", "-w", "w", train, "-o", model)
if p.returncode:
    fail(f"fit: {p.stderr}")
    finish()


def r_bounds(weights):
    out = R(f'd <- read.csv("{train}"); nd <- read.csv("{new}"); '
            'm <- lm(y ~ x + factor(g), data = d, weights = w); '
            f'p <- suppressWarnings(predict(m, nd, interval = "prediction"{weights})); '
            'write.table(format(p, digits = 17), sep = ",", row.names = FALSE, '
            'col.names = FALSE, quote = FALSE)')
    return [[float(v) for v in line.split(",")] for line in out.strip().splitlines()]


for args, weights in (([], ""), (["-w", "nw"], ", weights = nd$nw")):
    p = run("predict", "-m", model, "--interval", "prediction", *args, new)
    warned = "Assuming constant prediction variance even though model fit is weighted" in p.stderr
    if p.returncode or warned != (not args):
        fail(f"{args}: exit {p.returncode}, stderr {p.stderr!r}")
        continue
    rows = read_csv(p.stdout, text=True)[1:]
    for i, (row, want) in enumerate(zip(rows, r_bounds(weights))):
        for j, c in enumerate(("prediction", "lower", "upper")):
            rel_close(float(row[3 + j]), want[j], 1e-10, f"{args} row {i} {c}")
# no warning for confidence intervals
p = run("predict", "-m", model, "--interval", "confidence", new)
if p.returncode or p.stderr:
    fail(f"confidence: {p.returncode} {p.stderr}")
# a missing weight: an empty interval; a weight of 0: an error
odd = os.path.join(tmp, "odd.csv")
with open(odd, "w") as f:
    f.write("x,g,nw\n1,a,NA\n2,b,0\n")
p = run("predict", "-m", model, "--interval", "prediction", "-w", "nw", "--only", odd,
        "--chunk-rows", "1")
rows = read_csv(p.stdout, text=True)
if p.returncode != 3 or rows[:2] != [["prediction", "lower", "upper"], [rows[1][0], "", ""]] \
        or "expected a weight > 0" not in p.stderr:
    fail(f"odd weights: exit {p.returncode} {rows} {p.stderr}")
# -w without --interval prediction: usage; an absent column: an error before output
p = run("predict", "-m", model, "-w", "nw", new)
if p.returncode != 2:
    fail(f"-w alone: exit {p.returncode}")
p = run("predict", "-m", model, "--interval", "prediction", "-w", "zz", new)
if p.returncode == 0 or p.stdout or "'zz'" not in p.stderr:
    fail(f"-w zz: exit {p.returncode} {p.stdout!r} {p.stderr}")
finish()
