import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# -y/-x with text columns mean the formula they spell: `fit -y y -x a,b,region`
# is `y ~ a + b + region` with region categorical (R's read.csv + lm, names and
# order, LC_COLLATE=C), equal to R's lm here (1e-9) and to the formula bit for
# bit; default features, weights by position, --no-intercept, names that need
# backquotes; --factor with -y/-x (= factor(cyl), named cyl6, cyl8 as R names a
# factor column) and its usage errors; a numeric -y/-x fit is unchanged. A
# column is text when at least half of its first 512 records' non-missing cells
# are not numbers; one that turns to text later is a data error.
# (stdout: fit --help, unused.)
rscript = require_r()
tmp = tempfile.mkdtemp()
env = R_ENV


def r_fit(csv, formula, extra="", prep=""):
    return r_lm_coefs(csv, formula, prep=prep, lm_args=extra, read_args=", check.names = FALSE")


def fit(*args):
    p = run("fit", *args, "--format", "json")
    if p.returncode:
        fail(f"{args}: exit {p.returncode} {p.stderr}")
        return None
    return json.loads(p.stdout)


def check(csv, formula, args, extra="", prep="", tol=1e-9):
    want, (sigma, r2) = r_fit(csv, formula, extra, prep)
    got = fit(*args, csv)
    if got is not None:
        check_lm_terms(got, want, sigma, r2, tol, f"{args}")
    return got


rng = random.Random(5)
data = os.path.join(tmp, "data.csv")
regions = ["north", "south", "east, inner", "West"]
with open(data, "w") as f:
    f.write("y,a,b,region,sale price,w\n")
    for i in range(700):
        a, b = rng.gauss(0, 1), rng.uniform(0, 5)
        r = rng.choice(regions)
        kind = rng.choice(["flat", "house", "loft"])
        y = 1 + 2 * a - b + regions.index(r) * 0.7 + (kind == "loft") + rng.gauss(0, 0.5)
        f.write(f'{y:.6f},{a:.6f},{b:.5f},"{r}",{kind},{rng.uniform(0.5, 2):.4f}\n')

g = check(data, "y ~ a + b + region", ["-y", "y", "-x", "a,b,region"])
h = fit("y ~ a + b + region", data)
if g and h and json.dumps(g["terms"]) != json.dumps(h["terms"]):
    fail("-y/-x with a text column differs from the formula it spells")
check(data, "y ~ region + a", ["-y", "1", "-x", "region,2", "-w", "6"], ", weights = w")
check(data, "y ~ . - w", ["-y", "y", "-w", "w"], ", weights = w")
check(data, "y ~ a + `sale price` + region - 1", ["-y", "y", "-x", "a,sale price,region",
                                                   "--no-intercept", "--chunk-rows", "7"])
check(data, "y ~ b + region", ["-y", "y", "-x", "b,region", "--solver", "normal"])
# a name with a backquote and a backslash
odd = os.path.join(tmp, "odd.csv")
with open(data) as fin, open(odd, "w") as fout:
    lines = fin.read().splitlines()
    fout.write("y,a,b,re`g\\ion,sale price,w\n" + "\n".join(lines[1:]) + "\n")
p = fit("-y", "y", "-x", "a,re`g\\ion", odd)
q = fit("-y", "y", "-x", "a,region", data)
if p and q:
    if [t["name"] for t in p["terms"]][2:] != ["`re\\`g\\\\ion`" + n[6:] for n in
                                               [t["name"] for t in q["terms"]][2:]]:
        fail(f"odd name: {[t['name'] for t in p['terms']]}")
    for s1, s2 in zip(p["terms"], q["terms"]):
        rel_close(s1["estimate"], s2["estimate"], 1e-15, f"odd name: {s1['name']}")

# --factor with -y/-x
mtcars = os.path.join(tmp, "mtcars.csv")
R(f'write.csv(mtcars, "{mtcars}", row.names = FALSE)')
check(mtcars, "mpg ~ wt + cyl + hp", ["-y", "mpg", "-x", "wt,cyl,hp", "--factor", "cyl"],
      prep="d$cyl <- factor(d$cyl)")
check(mtcars, "mpg ~ . - am", ["-y", "mpg", "-x", "cyl,disp,hp,drat,wt,qsec,vs,gear,carb",
                              "--factor", "gear,carb"],
      prep="d$gear <- factor(d$gear); d$carb <- factor(d$carb)")
for args, msg in [
        (["-x", "wt,cyl", "--factor", "mpg"], "--factor: 'mpg' is the target: it must be a number"),
        (["-x", "wt", "--factor", "cyl"], "--factor: 'cyl' is not among the features (-x)"),
        (["-x", "wt", "-w", "cyl", "--factor", "cyl"],
         "--factor: 'cyl' is the weights: it must be a number"),
        (["-x", "wt", "--factor", "cy"], "--factor: no column named 'cy' in the header")]:
    p = run("fit", "-y", "mpg", *args, mtcars)
    if p.returncode != 2 or msg not in p.stderr:
        fail(f"{args}: exit {p.returncode} {p.stderr!r}")

# numeric -y/-x fits: the same bytes as before (no formula, no sample effect)
for args in (["-y", "mpg"], ["-y", "mpg", "-x", "wt,cyl", "--format", "json"],
             ["-y", "mpg", "-x", "wt,hp", "-w", "qsec", "--chunk-rows", "7", "--threads", "2"]):
    a, b = run("fit", *args, mtcars), run("fit", *args, "-", stdin=open(mtcars))
    if a.returncode or b.returncode or a.stdout.replace(mtcars, "-") != b.stdout:
        fail(f"numeric {args}: file and stdin differ or fail: {a.stderr} {b.stderr}")

# mostly numbers in the sample: numeric, the bad cell an error as before;
# numeric in the sample and text later: a data error naming line and value
late = os.path.join(tmp, "late.csv")
with open(late, "w") as f:
    f.write("y,x\n")
    for i in range(600):
        f.write(f"{i % 5},{'big' if i in (3, 550) else i % 3}\n")
p = run("fit", "-y", "y", late)
if p.returncode != 3 or 'late.csv:5: column 2 (x): expected a number, found "big"' not in p.stderr:
    fail(f"a bad cell among numbers: {p.returncode} {p.stderr!r}")
with open(late, "w") as f:
    f.write("y,x\n")
    for i in range(600):
        f.write(f"{i % 5},{'big' if i == 550 else i % 3}\n")
p = run("fit", "-y", "y", "-x", "x", late)
if p.returncode != 3 or 'late.csv:552: column 2 (x): expected a number, found "big"' not in p.stderr:
    fail(f"text after the sample: {p.returncode} {p.stderr!r}")
# ... with the way out named (issue 12), and --factor taking it
hint = "hint: column 'x' held numbers in its first records; to treat it as categorical give --factor x"
if hint not in p.stderr:
    fail(f"no --factor hint: {p.stderr!r}")
q = run("fit", "-y", "y", "-x", "x", "--factor", "x", "--format", "json", late)
if q.returncode or [t["name"] for t in json.loads(q.stdout)["terms"]] != ["(Intercept)", "x1", "x2", "xbig"]:
    fail(f"--factor after the hint: {q.returncode} {q.stdout} {q.stderr!r}")
# a text target stays a data error (the response is never categorical)
p = run("fit", "-y", "region", "-x", "a", data)
if p.returncode != 3 or 'column 4 (region): expected a number, found "' not in p.stderr:
    fail(f"text target: {p.returncode} {p.stderr!r}")
if "hint:" in p.stderr:
    fail(f"a --factor hint for the target: {p.stderr!r}")
shutil.rmtree(tmp)
finish()
