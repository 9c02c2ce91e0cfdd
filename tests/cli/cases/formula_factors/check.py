import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# factor() and relevel() in formulas equal R's lm (names, order, estimates,
# standard errors, aliased terms, sigma, R^2 to 1e-9), run here with
# LC_COLLATE=C: mtcars (written by R's write.csv), a diamonds-like file with
# text columns, relevel, a factor x factor with an empty cell (aliased, NA in
# R), levels first seen after many rows, chunk sizes 1 and 7, both solvers,
# and --threads 2 equal to one thread. (stdout: fit --help, unused.)
rscript = require_r()
tmp = tempfile.mkdtemp()
env = R_ENV


def r_fit(csv, formula):
    return r_lm_coefs(csv, formula)


def fit(csv, formula, *opts):
    p = run("fit", formula, csv, "--format", "json", *opts)
    if p.returncode:
        fail(f"{formula} {opts}: exit {p.returncode} {p.stderr}")
        return None
    return json.loads(p.stdout)


def check(csv, formula, *opts, tol=1e-9):
    want, (sigma, r2) = r_fit(csv, formula)
    got = fit(csv, formula, *opts)
    if got is not None:
        check_lm_terms(got, want, sigma, r2, tol, f"{os.path.basename(csv)}: {formula} "
                       f"{' '.join(opts)}")
    return got


# mtcars, written by R
mtcars = os.path.join(tmp, "mtcars.csv")
R(f'write.csv(mtcars, "{mtcars}", row.names = FALSE)')
for opts in [(), ("--chunk-rows", "1"), ("--chunk-rows", "7"), ("--solver", "normal")]:
    check(mtcars, "mpg ~ wt * factor(cyl) + hp", *opts)
check(mtcars, "mpg ~ relevel(factor(cyl), ref = \"8\") + wt", "--chunk-rows", "7")
check(mtcars, "mpg ~ factor(gear) * factor(am) - 1 + wt")
# --factor cyl: cyl's bare uses categorical, named as R names a factor column
a = fit(mtcars, "mpg ~ wt * factor(cyl) + hp")
b = fit(mtcars, "mpg ~ wt * cyl + hp", "--factor", "cyl")
if a and b:
    if [t["name"].replace("factor(cyl)", "cyl") for t in a["terms"]] != \
            [t["name"] for t in b["terms"]]:
        fail(f"--factor: {[t['name'] for t in b['terms']]}")
    for s1, s2 in zip(a["terms"], b["terms"]):
        rel_close(s2["estimate"], s1["estimate"], 1e-13, f"--factor: {s2['name']}")
p = run("fit", "mpg ~ wt", mtcars, "--factor", "cy")
if p.returncode != 2 or "--factor: no column named 'cy' in the header" not in p.stderr:
    fail(f"--factor cy: {p.returncode} {p.stderr!r}")

# diamonds-like: text columns, quoted cells, a level with a comma and a space
rng = random.Random(12)
cuts = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
colors = list("DEFGHIJ")
regions = ["north", "south", "east, inner", "west"]
diamonds = os.path.join(tmp, "diamonds.csv")
with open(diamonds, "w") as f:
    f.write("price,carat,cut,color,region\n")
    for i in range(3000):
        carat = rng.uniform(0.2, 3)
        cut = rng.choice(cuts)
        color = rng.choice(colors)
        # "late" appears only after 2500 rows
        region = rng.choice(regions + (["late"] if i > 2500 else []))
        price = (3000 * carat ** 1.7 * (1 + 0.1 * cuts.index(cut)) * (1.3 - 0.05 * colors.index(color))
                 * rng.lognormvariate(0, 0.2) + (400 if region == "late" else 0))
        f.write(f'{price:.2f},{carat:.3f},"{cut}",{color},"{region}"\n')
F1 = "log(price) ~ log(carat) + factor(cut) + factor(color) + factor(region)"
for opts in [(), ("--chunk-rows", "7"), ("--solver", "normal")]:
    check(diamonds, F1, *opts)
check(diamonds, 'log(price) ~ relevel(cut, ref = "Ideal") * carat + factor(region)')
check(diamonds, "price ~ factor(cut):factor(color) + carat")
# bare text columns are categorical (decided on the first 512 records), also
# from standard input with threads
F3 = "log(price) ~ log(carat) + cut + color + region"
check(diamonds, F3)
check(diamonds, "log(price) ~ cut * carat + color:region - 1", "--chunk-rows", "7")
with open(diamonds) as fin:
    p = run("fit", F3, "-", "--threads", "2", "--format", "json", stdin=fin)
a = fit(diamonds, F3)
if p.returncode or not a:
    fail(f"stdin: {p.returncode} {p.stderr}")
else:
    b = json.loads(p.stdout)
    for s1, s2 in zip(a["terms"], b["terms"]):
        rel_close(s2["estimate"], s1["estimate"], 1e-11, f"stdin threads 2: {s1['name']}")

# factor x factor with an empty cell: (c, z) never occurs
cells = os.path.join(tmp, "cells.csv")
with open(cells, "w") as f:
    f.write("y,g,h,x\n")
    for i in range(200):
        g, h = rng.choice("abc"), rng.choice("xyz")
        if (g, h) == ("c", "z"):
            h = "y"
        f.write(f"{rng.gauss(0, 1) + (g == 'b') + 2 * (h == 'x'):.6f},{g},{h},{rng.random():.5f}\n")
for opts in [(), ("--solver", "normal"), ("--chunk-rows", "7")]:
    check(cells, "y ~ factor(g) * factor(h) + x", *opts)

# threads: two byte ranges that saw different levels equal one pass
big = os.path.join(tmp, "big.csv")
with open(big, "w") as f:
    f.write("y,x,k,z\n")
    for i in range(40000):
        k = f"k{rng.randrange(12 if i < 20000 else 20)}"
        x = rng.gauss(0, 1)
        f.write(f"{x * 2 + int(k[1:]) * 0.1 + rng.gauss(0, 1):.6f},{x:.6f},{k},{rng.choice('pqr')}\n")
F2 = "y ~ x * factor(z) + factor(k)"
one = check(big, F2)
two = fit(big, F2, "--threads", "2")
if one and two:
    if [t["name"] for t in one["terms"]] != [t["name"] for t in two["terms"]]:
        fail("threads: term names differ")
    else:
        for a, b in zip(one["terms"], two["terms"]):
            rel_close(b["estimate"], a["estimate"], 1e-11, f"threads 2: {a['name']}")
            rel_close(b["std_error"], a["std_error"], 1e-11, f"threads 2: {a['name']} se")

# errors: a relevel ref that is not a level (exit 3); more levels than allowed
p = run("fit", 'mpg ~ relevel(factor(cyl), ref = "5")', mtcars)
if p.returncode != 3 or 'ref = "5" is not a level' not in p.stderr:
    fail(f"bad ref: {p.returncode} {p.stderr!r}")
many = os.path.join(tmp, "many.csv")
with open(many, "w") as f:
    f.write("y,id\n")
    for i in range(1001):
        f.write(f"{i % 7},id{i}\n")
p = run("fit", "y ~ factor(id)", many)
if p.returncode != 3 or "many.csv:1002: column 2 (id): factor(id) has more than 1000 levels " \
        "(raise --max-levels)" not in p.stderr:
    fail(f"max levels: {p.returncode} {p.stderr!r}")
p = run("fit", "y ~ factor(id)", many, "--max-levels", "1001", "--format", "json")
if p.returncode or len(json.loads(p.stdout)["terms"]) != 1001:
    fail(f"--max-levels 1001: {p.returncode} {p.stderr!r}")
# a column numeric in the sample and text later: a data error naming it
late = os.path.join(tmp, "late_text.csv")
with open(late, "w") as f:
    f.write("y,x\n")
    for i in range(600):
        f.write(f"{i % 5},{'big' if i == 550 else i % 3}\n")
p = run("fit", "y ~ x", late)
if p.returncode != 3 or 'late_text.csv:552: column 2 (x): expected a number (for a categorical ' \
        'column write factor(...)), found "big"' not in p.stderr:
    fail(f"text after the sample: {p.returncode} {p.stderr!r}")
late = os.path.join(tmp, "late.csv")
with open(late, "w") as f:
    f.write("y,x\n1,2\n2,3\n3,4\n4,big\n")
p = run("fit", "y ~ log(x)", late)
if p.returncode != 3 or 'late.csv:5: column 2 (x): expected a number (for a categorical column ' \
        'write factor(...)), found "big"' not in p.stderr:
    fail(f"text after numbers: {p.returncode} {p.stderr!r}")
shutil.rmtree(tmp)
finish()
