import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# --holdout and --cv with categorical terms equal R: the rows split by the
# same hash (split_uniform of the record number, the header being record 1),
# lm on the training rows, predict on the held-out rows, MSE/RMSE/R^2 in R
# (1e-9); the holdout report is R's fit on the training rows. --threads 2 and
# chunk size 7 agree. A held-out level the training rows never saw: R's
# predict fails; csvreg counts the rows in a warning and scores them with
# that level's effect as 0. (stdout: fit --help, unused.)
rscript = require_r()
tmp = tempfile.mkdtemp()
env = R_ENV


rng = random.Random(3)
data = os.path.join(tmp, "d.csv")
regions = ["north", "south", "east, inner", "west", "centre"]
with open(data, "w") as f:
    f.write("y,a,region,k\n")
    for i in range(3000):
        a = rng.gauss(0, 1)
        r = rng.choice(regions)
        k = rng.randrange(6)
        f.write(f'{1 + 2 * a + regions.index(r) * 0.5 + 0.3 * k + rng.gauss(0, 1):.6f},'
                f'{a:.6f},"{r}",{k}\n')
n = 3000
F = "y ~ a * region + factor(k)"


def parts(seed, fraction=None, k=None):
    out = []
    for i in range(n):
        u = split_uniform(i + 2, seed)
        out.append((1 if u < fraction else 0) if fraction is not None else min(int(u * k), k - 1))
    return out


def r_scores(part, tests, fold_train):
    """R: for each test part t, fit on the rows fold_train(t), score part t."""
    pf = os.path.join(tmp, "part.txt")
    with open(pf, "w") as f:
        f.write("\n".join(map(str, part)) + "\n")
    out = R(f"""
d <- read.csv("{data}", stringsAsFactors = TRUE); p <- scan("{pf}", quiet = TRUE)
for (t in c({",".join(map(str, tests))})) {{
  tr <- {fold_train}
  m <- lm({F}, d[tr, ]); te <- d[p == t, ]
  e <- te$y - predict(m, te); sse <- sum(e^2)
  cat(sprintf("%d\\t%.17g\\t%.17g\\t%.17g\\n", nrow(te), sse / nrow(te), sqrt(sse / nrow(te)),
              1 - sse / sum((te$y - mean(te$y))^2)))
}}
m <- lm({F}, d[{fold_train.replace("t", "1") if "!=" not in fold_train else "TRUE"}, ])
b <- coef(summary(m)); for (nm in rownames(b)) cat(sprintf("%s\\t%.17g\\n", nm, b[nm, 1]))
""")
    rows = [line.split("\t") for line in out.strip().splitlines()]
    return [tuple(map(float, r)) for r in rows[:len(tests)]], rows[len(tests):]


def check(args, want, coefs, what):
    p = run("fit", F, data, "--format", "json", *args)
    if p.returncode:
        fail(f"{what}: exit {p.returncode} {p.stderr}")
        return None
    rep = json.loads(p.stdout)
    got = [rep["holdout"]] if "holdout" in rep else rep["cv"]["folds"]
    for g, (nn, mse, rmse, r2) in zip(got, want):
        if g["n"] != nn:
            fail(f"{what}: n {g['n']} != {nn}")
        rel_close(g["mse"], mse, 1e-9, f"{what}: mse")
        rel_close(g["rmse"], rmse, 1e-9, f"{what}: rmse")
        rel_close(g["r_squared"], r2, 1e-9, f"{what}: r_squared")
    names = [t["name"] for t in rep["terms"]]
    if names != [c[0] for c in coefs]:
        fail(f"{what}: terms {names} != R's {[c[0] for c in coefs]}")
    else:
        for t, (nm, e) in zip(rep["terms"], coefs):
            rel_close(t["estimate"], float(e), 1e-9, f"{what}: {nm}")
    if p.stderr:
        fail(f"{what}: stderr {p.stderr!r}")
    return rep


want, coefs = r_scores(parts(7, fraction=0.3), [1], "p == 0")
for opts in [(), ("--chunk-rows", "7"), ("--threads", "2"), ("--solver", "normal")]:
    check(["--holdout", "0.3", "--seed", "7", *opts], want, coefs, f"holdout {opts}")
want, coefs = r_scores(parts(2, k=4), [0, 1, 2, 3], "p != t")
for opts in [(), ("--chunk-rows", "7"), ("--threads", "2")]:
    check(["--cv", "4", "--seed", "2", *opts], want, coefs, f"cv {opts}")

# a level only in held-out rows: counted, R's predict fails on it
rare = os.path.join(tmp, "rare.csv")
rows = open(data).read().splitlines()
cv = parts(2, k=4)
rare_rows = [i for i in range(n) if cv[i] == 2][:3]
with open(rare, "w") as f:
    f.write(rows[0] + "\n")
    for i, line in enumerate(rows[1:]):
        pre, region, post = line.split('"')
        f.write(f'{pre}"{"tiny" if i in rare_rows else region}"{post}\n')
p = run("fit", F, rare, "--cv", "4", "--seed", "2", "--format", "json")
want = "csvreg: warning: cross-validation fold 3: 3 held-out row(s) with a level the training " \
       "rows never saw (R's predict fails on them); scored with that level's effect as 0\n"
if p.returncode or p.stderr != want:
    fail(f"unseen level: {p.returncode} {p.stderr!r}")
q = run("fit", F, rare, "--cv", "4", "--seed", "2", "--quiet")
if q.returncode or q.stderr:
    fail(f"--quiet: {q.returncode} {q.stderr!r}")
shutil.rmtree(tmp)
finish()
