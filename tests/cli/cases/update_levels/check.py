import json
import os
import random
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit --update of a formula model with categorical variables folds new rows
# that bring new levels, a new baseline (a level that sorts first) and a
# relevel'd factor's new levels into the saved model exactly: equal to a fit
# on the old and new rows together (1e-11 relative) and to R's lm on them
# (1e-9, LC_COLLATE=C). Also in two steps, with --decay (= a weighted refit,
# the old rows' weights scaled), and with the new rows on standard input.
# The model keeps the pre-select state (a column for every level), so that
# the new rows' state aligns with it by name. (stdout: fit --help, unused.)
require_r()
tmp = tempfile.mkdtemp()
rng = random.Random(12)
EFF = {"a": 0.3, "b": 0.0, "c": 1.0, "d": -1.0, "e": 2.0}
rows = []
for i in range(600):
    # part A: g in b, c, d; h in u, v; k in 1..3. B adds g = a (the new
    # baseline) and e, h = w, k = 4; C adds g = f.
    if i < 200:
        g, h, k = rng.choice("bcd"), rng.choice("uv"), rng.choice([1, 2, 3])
    elif i < 400:
        g, h, k = rng.choice("abcde"), rng.choice("uvw"), rng.choice([1, 2, 3, 4])
    else:
        g, h, k = rng.choice("abcdef"), rng.choice("uvw"), rng.choice([1, 2, 3, 4])
    x, z = rng.gauss(0, 1), rng.uniform(1, 5)
    y = (1 + 2 * x + EFF.get(g, 0.5) + {"u": 0, "v": 0.5, "w": -0.7}[h] + 0.1 * k
         + 0.3 * x * (g == "c") + rng.gauss(0, 0.5))
    wd = 0.25 if i < 200 else 1.0
    rows.append(f"{y:.6f},{x:.6f},{z:.6f},{g},{h},{k},{wd}")
HEAD = "y,x,z,g,h,k,wd\n"


def write(name, part):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(HEAD + "".join(r + "\n" for r in part))
    return path


A, B, C = write("A.csv", rows[:200]), write("B.csv", rows[200:400]), write("C.csv", rows[400:])
AB, ABC = write("AB.csv", rows[:400]), write("ABC.csv", rows)


def jfit(*args, **kw):
    p = run("fit", *args, "--format", "json", **kw)
    if p.returncode:
        fail(f"{args}: exit {p.returncode} {p.stderr}")
        return None
    return json.loads(p.stdout)


same = same_fit


def r_check(got, csv, formula, what, weights=""):
    want, (sigma, r2) = r_lm_coefs(csv, formula, lm_args=weights)
    if got is not None:
        check_lm_terms(got, want, sigma, r2, 1e-9, what + " (R)")


FORMULAS = [
    ("new levels, new baseline", "y ~ g * x + h + log(z)"),
    ("relevel and factor()", 'y ~ relevel(g, ref = "c") * h + factor(k) + x'),
]
for what, f in FORMULAS:
    m = os.path.join(tmp, "m.json")
    if run("fit", f, A, "-o", m).returncode:
        fail(f"{what}: fit -o failed")
        continue
    m2 = os.path.join(tmp, "m2.json")
    got = jfit("--update", m, "-o", m2, B)
    ref = jfit(f, AB)
    same(got, ref, 1e-11, f"{what}: --update = refit")
    r_check(got, AB, f, what)
    # the updated model reloads and knows the new levels
    pr = run("predict", "-m", m2, B)
    if pr.returncode or "never saw" in pr.stderr:
        fail(f"{what}: predict with the updated model: {pr.returncode} {pr.stderr!r}")
    # two steps: A, then B, then C
    m3 = os.path.join(tmp, "m3.json")
    got3 = jfit("--update", m2, "-o", m3, C)
    same(got3, jfit(f, ABC), 1e-11, f"{what}: two --update steps = refit")
    r_check(got3, ABC, f, what + " (two steps)")
    # --decay L: the old rows' weights scaled by L = a refit weighting A by L
    gotd = jfit("--update", m, "--decay", "0.25", "-o", os.path.join(tmp, "md.json"), B)
    same(gotd, jfit(f, "-w", "wd", AB), 1e-11, f"{what}: --decay = weighted refit")
    r_check(gotd, AB, f, what + " (decay)", ", weights = wd")
    # the new rows from standard input
    with open(B) as fb:
        gots = jfit("--update", m, "-o", os.path.join(tmp, "ms.json"), stdin=fb)
    same(gots, got, 1e-11, f"{what}: --update from stdin = from the file")

# `y ~ .` updated from a file whose columns come in another order: `.` means
# the training header's columns, and the model saved reloads (a second update)
R_ORDER = [3, 0, 4, 2, 1, 5, 6]
Br = os.path.join(tmp, "Br.csv")
with open(Br, "w") as f:
    f.write(",".join(HEAD.strip().split(",")[j] for j in R_ORDER) + "\n")
    for r in rows[200:400]:
        v = r.split(",")
        f.write(",".join(v[j] for j in R_ORDER) + "\n")
md, md2 = os.path.join(tmp, "d.json"), os.path.join(tmp, "d2.json")
if run("fit", "y ~ . - wd", A, "-o", md).returncode:
    fail("y ~ .: fit -o failed")
else:
    got = jfit("--update", md, "-o", md2, Br)
    same(got, jfit("y ~ . - wd", AB), 1e-11, "y ~ . from reordered columns")
    same(jfit("--update", md2, C), jfit("y ~ . - wd", ABC), 1e-11, "y ~ ., second update")


# a formula of numeric terms only (transforms, I(), raw poly()): its columns
# are fixed, so --update folds new rows as for -y/-x (issue 12)
fn = "log(y + 10) ~ log(z) + I(x^2) + poly(z, 2, raw = TRUE)"
mn, mn2 = os.path.join(tmp, "n.json"), os.path.join(tmp, "n2.json")
if run("fit", fn, A, "-o", mn).returncode:
    fail("numeric formula: fit -o failed")
else:
    got = jfit("--update", mn, "-o", mn2, B)
    same(got, jfit(fn, AB), 1e-11, "numeric formula: --update = refit")
    r_check(got, AB, fn, "numeric formula")
    same(jfit("--update", mn2, C), jfit(fn, ABC), 1e-11, "numeric formula: two --update steps")

# a factor formula fitted with --cv or --holdout saves a model (it used to
# fail to reload: exit 6) that predicts as the plain fit's; its state holds
# R's columns only, so --update says so (exit 2) and names the way out
f = "y ~ g * x + h"
mp = os.path.join(tmp, "plain.json")
run("fit", f, A, "-o", mp)
for how in (["--cv", "3"], ["--holdout", "0.25"]):
    mv = os.path.join(tmp, "v.json")
    if os.path.exists(mv):
        os.remove(mv)
    p = run("fit", f, A, *how, "--seed", "4", "-o", mv)
    if p.returncode or not os.path.exists(mv):
        fail(f"fit {how} -o: {p.returncode} {p.stderr!r}")
        continue
    pv, pp = run("predict", "-m", mv, A), run("predict", "-m", mp, A)
    if pv.returncode or not pv.stdout:
        fail(f"predict with the {how} model: {pv.returncode} {pv.stderr!r}")
    elif how[0] == "--cv":  # CV's model is the fit of every row: the plain model's
        for a_, b_ in zip(pv.stdout.splitlines()[1:], pp.stdout.splitlines()[1:]):
            rel_close(float(a_.split(",")[-1]), float(b_.split(",")[-1]), 1e-12,
                      "--cv model prediction")
    u = run("fit", "--update", mv, B)
    if u.returncode != 2 or "fitted with --holdout or --cv" not in u.stderr:
        fail(f"--update of a {how} model: {u.returncode} {u.stderr!r}")

finish()
