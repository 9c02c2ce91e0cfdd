import json
import os
import random
import subprocess
import sys
import tempfile
from fractions import Fraction
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# head12b (issue 12): the level head's accuracy (src/linalg/accum_head.c),
# on by default. 60,000 rows, 4 levels of ~15,000 rows each, and a first
# row (the global shift K) ~1000 from every level's mean: each level
# coefficient is a small difference (0.01) of level means ~1000 from K.
# The head folds a level's rows into its head row one Givens rotation at a
# time. On the global shift that row held d_j (mean_j - K) and rounded like
# a recursive sum of ~15,000 terms of size 1000: that head was 5.8e-11
# (weighted 5.7e-10) of the standard error from the exact answer. With a per-level shift near the
# level's running mean (and the shift moved to the data's mean at the
# flush) it measured 6.5e-15 to 6e-14, the dense fold 3.6e-13 to 5.0e-13
# (its intercept row holds sqrt(n) (mean - K)), R's lm 5e-13 to 6.1e-12 (it
# factors the raw, unshifted design; its bits depend on the BLAS setting).
# Errors are |b - reference| / max(|reference|, SE). Checked, unweighted and
# weighted, the head at chunk sizes 1, 7 and the default and --threads 2:
# - against the exact least-squares answer (rational arithmetic here) at
#   2e-13, and at 1e-12, the bound the dense path (CSVREG_LEVEL_HEAD=0,
#   default chunk) is held to as well;
# - against R's lm at 2e-11 (R's own distance from the exact answer: above),
#   standard errors at 1e-10 relative;
# - against the dense path at 1e-12, and that the head ran (other bits) when
#   CSVREG_LEVEL_HEAD is not set.
# (stdout: fit --help, unused.)
require_r()
tmp = tempfile.mkdtemp()
N, L = 60000, 4
data = os.path.join(tmp, "shift.csv")
rng = random.Random(2)
with open(data, "w") as f:
    f.write("x,z,g,w,y\n")
    f.write("0,0,L0,1,0\n")  # the first row: K, far from every level's mean
    for i in range(N - 1):
        lv = rng.randrange(L)
        x, z = round(rng.gauss(0, 1), 4), round(rng.uniform(0, 10), 3)
        w = rng.choice(("0.5", "1", "2", "3"))
        y = round(1000 + 2 * x - 0.5 * z + 0.01 * lv + rng.gauss(0, 1), 5)
        f.write(f"{x},{z},L{lv},{w},{y}\n")
FORMULA = "y ~ x + z + g"


def exact(weighted):
    """The least-squares coefficients in rational arithmetic: {name: Fraction}."""
    names = ["(Intercept)", "x", "z"] + [f"gL{j}" for j in range(1, L)]
    p = len(names)
    xtx = [[0] * p for _ in range(p)]
    xty = [0] * p
    with open(data) as f:
        next(f)
        for line in f:
            x, z, g, w, y = line.rstrip("\n").split(",")
            lv = int(g[1:])
            # every cell is a decimal: scaled to integers, the scale put back below
            v = [1, Fraction(x).limit_denominator(10**4), Fraction(z).limit_denominator(10**3)] + \
                [1 if lv == j else 0 for j in range(1, L)]
            wt = Fraction(w) if weighted else 1
            yv = Fraction(y).limit_denominator(10**5)
            for a in range(p):
                if v[a]:
                    xty[a] += wt * v[a] * yv
                    for b in range(a, p):
                        if v[b]:
                            xtx[a][b] += wt * v[a] * v[b]
    m = [[Fraction(xtx[min(a, b)][max(a, b)]) for b in range(p)] + [Fraction(xty[a])]
         for a in range(p)]
    for c in range(p):
        piv = next(i for i in range(c, p) if m[i][c] != 0)
        m[c], m[piv] = m[piv], m[c]
        for i in range(p):
            if i != c and m[i][c] != 0:
                r = m[i][c] / m[c][c]
                m[i] = [a - r * b for a, b in zip(m[i], m[c])]
    return {n: m[i][p] / m[i][i] for i, n in enumerate(names)}


def r_fit(weighted):
    out = R(f"""
d <- read.csv("{data}", stringsAsFactors = TRUE)
m <- lm({FORMULA}, d{", weights = w" if weighted else ""}); cf <- coef(summary(m))
for (n in rownames(cf)) cat(sprintf("%s\\t%.17g\\t%.17g\\n", n, cf[n, 1], cf[n, 2]))
""")
    return {n: (float(e), float(se)) for n, e, se in
            (line.split("\t") for line in out.strip().splitlines())}


def fit(*opts, head=True):
    env = dict(os.environ)
    if head:
        env.pop("CSVREG_LEVEL_HEAD", None)  # the default
    else:
        env["CSVREG_LEVEL_HEAD"] = "0"
    p = subprocess.run([CSVREG, "fit", FORMULA, data, "--format", "json", *opts],
                       capture_output=True, text=True, env=env)
    if p.returncode:
        fail(f"{opts}: exit {p.returncode} {p.stderr}")
        return None
    return {t["name"]: (t["estimate"], t["std_error"]) for t in json.loads(p.stdout)["terms"]}


def worst(got, want, se):
    """max over terms of |got - want| / max(|want|, SE), and the term."""
    return max((abs(got[n][0] - float(want[n])) / max(abs(float(want[n])), se[n]), n)
               for n in want)


def within(got, want, se, tol, what):
    if got is None:
        return
    if set(got) != set(want):
        fail(f"{what}: terms {sorted(got)} != {sorted(want)}")
        return
    err, term = worst(got, want, se)
    print(f"{what}: {err:.2e} ({term})")
    if err > tol:
        fail(f"{what}: {term} is {err:.3g} of max(|b|, SE) away (tolerance {tol})")


for weighted in (False, True):
    wopt = ("-w", "w") if weighted else ()
    tag = "weighted" if weighted else "unweighted"
    ex = exact(weighted)
    r = r_fit(weighted)
    se = {n: r[n][1] for n in r}
    rb = {n: r[n][0] for n in r}
    within({n: (v, 0) for n, v in rb.items()}, ex, se, 2e-11, f"{tag}: R's lm vs exact")
    dense = fit(*wopt, head=False)
    within(dense, ex, se, 1e-12, f"{tag}: dense vs exact")
    for opts in ((), ("--chunk-rows", "1"), ("--chunk-rows", "7"), ("--threads", "2")):
        what = f"{tag} {' '.join(opts)}".rstrip()
        got = fit(*wopt, *opts)
        within(got, ex, se, 2e-13, f"{what}: head vs exact")
        within(got, rb, se, 2e-11, f"{what}: head vs R")
        if got and dense:
            within(got, {n: v[0] for n, v in dense.items()}, se, 1e-12, f"{what}: head vs dense")
            for n in r:
                rel_close(got[n][1], r[n][1], 1e-10, f"{what}: {n} std_error vs R")
        if not opts and got == dense:
            fail(f"{tag}: the head gave the dense path's bits (was it used?)")
finish()
