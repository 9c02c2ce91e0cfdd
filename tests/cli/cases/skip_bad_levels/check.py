import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Levels held only by rows that --skip-bad drops for a non-finite transform
# (log(0)) are not levels: R drops unused levels. Fits equal R's lm on the
# kept rows (1e-9) at chunk sizes 1, 3, 7 and the default, both solvers,
# --threads 2, holdout. A factor with one level is a data error (exit 3) as
# R's "contrasts can be applied only to factors with 2 or more levels",
# wherever it stands (x + g, g - 1, x:g, g:h). (stdout: fit --help, unused.)
rscript = require_r()
tmp = tempfile.mkdtemp()
env = R_ENV


rng = random.Random(9)
data = os.path.join(tmp, "d.csv")
with open(data, "w") as f:
    f.write("y,x,g,h\n")
    for i in range(2000):
        g = rng.choice("abcd")
        x = rng.uniform(0.5, 4)
        # ghost levels: only on rows with x = 0 (log(0): dropped by --skip-bad);
        # "late" both on such a row (first) and on kept rows later
        if i % 97 == 5:
            g, x = f"ghost{i}", 0
        if i == 400:
            g, x = "late", 0
        if i > 1500 and i % 50 == 0:
            g = "late"
        h = rng.choice(["p", "q", "r"]) if i % 131 != 7 or x else "hghost"
        y = 1 + 2 * (x and __import__("math").log(x)) + "abcd late".find(g[:4]) * 0.3 \
            + rng.gauss(0, 1)
        f.write(f"{y:.6f},{x:.5f},{g},{h}\n")
F = "y ~ log(x) + g * h"
want, (sigma, r2) = r_lm_coefs(data, F, prep="d <- droplevels(d[d$x > 0, ])")
for opts in [(), ("--chunk-rows", "1"), ("--chunk-rows", "3"), ("--chunk-rows", "7"),
             ("--solver", "normal"), ("--threads", "2")]:
    p = run("fit", F, data, "--skip-bad", "--format", "json", *opts)
    if p.returncode:
        fail(f"{opts}: exit {p.returncode} {p.stderr}")
        continue
    check_lm_terms(json.loads(p.stdout), want, sigma, r2, 1e-9, f"{opts}")
p = run("fit", F, data, "--skip-bad", "--holdout", "0.2", "--format", "json")
if p.returncode or any("ghost" in t["name"] for t in json.loads(p.stdout)["terms"]):
    fail(f"holdout: {p.returncode} {p.stderr}")

# one level
one = os.path.join(tmp, "one.csv")
with open(one, "w") as f:
    f.write("y,x,g,h\n")
    for i in range(20):
        f.write(f"{rng.gauss(0, 1):.4f},{i},a,{'pq'[i % 2]}\n")
for args in (["y ~ x + g"], ["y ~ g - 1"], ["y ~ x:g"], ["y ~ g:h"], ["-y", "y", "-x", "x,g"]):
    p = run("fit", *args, one)
    msg = 'g has one level, "a": a categorical term needs 2 or more (R: contrasts can be ' \
          'applied only to factors with 2 or more levels)'
    if p.returncode != 3 or msg not in p.stderr:
        fail(f"{args}: {p.returncode} {p.stderr!r}")
p = run("fit", "y ~ x + factor(g)", one)
if p.returncode != 3 or 'factor(g) (column g) has one level, "a"' not in p.stderr:
    fail(f"factor(g): {p.returncode} {p.stderr!r}")
shutil.rmtree(tmp)
finish()
