import os
import random
import tempfile
sys_path = os.path.abspath("..")
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# predict --residuals --leverage --rstandard --cooks on the training rows
# equal R's residuals, hatvalues, rstandard and cooks.distance of the lm
# (1e-10 relative): mtcars (R's own data set, written by R), and a generated
# weighted data set with a factor term and a transformed response. A row
# whose target is missing gets its prediction and empty statistics; a
# weighted model on an input without its weights column warns and takes
# weight 1; the target column must be present.
require_r()
tmp = tempfile.mkdtemp()
COLS = ["residual", "leverage", "rstandard", "cooks"]
STATS = ["--residuals", "--leverage", "--rstandard", "--cooks"]
RFUN = "residuals(m), hatvalues(m), rstandard(m), cooks.distance(m)"


def compare(name, data, formula, fit_args, extra_r=""):
    model = os.path.join(tmp, name + ".json")
    p = run("fit", *fit_args, data, "-o", model)
    if p.returncode:
        fail(f"{name}: fit exit {p.returncode} {p.stderr}")
        return
    p = run("predict", "-m", model, *STATS, data)
    if p.returncode or p.stderr:
        fail(f"{name}: predict exit {p.returncode} {p.stderr}")
        return
    rows = read_csv(p.stdout, text=True)
    head = rows[0]
    got = [[float(r[head.index(c)]) for c in COLS] for r in rows[1:]]
    out = R(f'd <- read.csv("{data}"); m <- lm({formula}, data = d{extra_r}); '
            f'x <- cbind({RFUN}); write.table(format(x, digits = 17), sep = ",", '
            'row.names = FALSE, col.names = FALSE, quote = FALSE)')
    want = [[float(v) for v in line.split(",")] for line in out.strip().splitlines()]
    if len(want) != len(got):
        fail(f"{name}: {len(got)} rows, R {len(want)}")
        return
    # A residual is a difference: where it is 1000 times smaller than the
    # largest, it (and what is made of it) is held to 1e-10 of the column's
    # largest value instead of its own.
    top = [max(abs(w[j]) for w in want) for j in range(len(COLS))]
    for i, (g, w) in enumerate(zip(got, want)):
        small = abs(w[0]) < 1e-3 * top[0]
        for j, c in enumerate(COLS):
            if small and c != "leverage":
                if abs(g[j] - w[j]) > 1e-10 * top[j]:
                    fail(f"{name} row {i} {c}: {g[j]} R {w[j]}")
            else:
                rel_close(g[j], w[j], 1e-10, f"{name} row {i} {c}")


# mtcars, as R has it
mt = os.path.join(tmp, "mtcars.csv")
R(f'write.csv(mtcars, "{mt}", row.names = FALSE)')
compare("mtcars", mt, "mpg ~ wt + hp + qsec", ["-y", "mpg", "-x", "wt,hp,qsec"])
compare("mtcars_formula", mt, "log(mpg) ~ wt + factor(cyl)", ["log(mpg) ~ wt + factor(cyl)"])

# a generated weighted set with a factor term
rng = random.Random(16)
gen = os.path.join(tmp, "gen.csv")
with open(gen, "w") as f:
    f.write("y,x1,x2,g,w\n")
    for i in range(200):
        x1, x2 = rng.uniform(-3, 3), rng.uniform(1e3, 1e3 + 5)
        g = rng.choice(["a", "b", "c"])
        w = rng.uniform(0.2, 4)
        y = 1 + 2 * x1 - 0.5 * x2 + {"a": 0, "b": 1, "c": -2}[g] + rng.gauss(0, 1) / w ** 0.5
        f.write(f"{y!r},{x1!r},{x2!r},{g},{w!r}\n")
compare("weighted_factor", gen, "y ~ x1 + x2 + factor(g)",
        ["y ~ x1 + x2 + factor(g)", "-w", "w"], ", weights = w")
compare("weighted_plain", gen, "y ~ x1 + x2", ["-y", "y", "-x", "x1,x2", "-w", "w"],
        ", weights = w")

# a missing target: the prediction, empty statistics
model = os.path.join(tmp, "weighted_plain.json")
na = os.path.join(tmp, "na.csv")
with open(na, "w") as f:
    f.write("x1,x2,y,w\n1,1001,,2\n2,1002,3,NA\n1,1000,2.5,1\n")
p = run("predict", "-m", model, "--residuals", "--cooks", na)
rows = read_csv(p.stdout, text=True)
if p.returncode or rows[0] != ["x1", "x2", "y", "w", "prediction", "residual", "cooks"]:
    fail(f"missing target: exit {p.returncode} {rows[:1]} {p.stderr}")
elif not (rows[1][4] and rows[1][5:] == ["", ""] and rows[2][4] and rows[2][5] and
          rows[2][6] == "" and all(rows[3][4:])):
    fail(f"missing target/weight rows: {rows[1:]}")
# no weights column: weight 1 with a warning
nw = os.path.join(tmp, "nw.csv")
with open(nw, "w") as f:
    f.write("x1,x2,y\n1,1001,2\n")
p = run("predict", "-m", model, "--leverage", nw)
if p.returncode or "weight 1" not in p.stderr:
    fail(f"no weights column: exit {p.returncode} {p.stderr}")
# no target column: an error before any output
nt = os.path.join(tmp, "nt.csv")
with open(nt, "w") as f:
    f.write("x1,x2\n1,1001\n")
p = run("predict", "-m", model, "--residuals", nt)
if p.returncode != 2 and p.returncode != 3 or p.stdout or "'y'" not in p.stderr:
    fail(f"no target column: exit {p.returncode} {p.stdout!r} {p.stderr}")
finish()
