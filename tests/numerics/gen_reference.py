#!/usr/bin/python3
"""gen_reference.py - deterministic hard least-squares problems and their exact answers.

Writes tests/data/reference/NAME.csv and NAME.json for the datasets below; the C test
tests/numerics/test_reference.c reads both. Rerun from anywhere with

    /usr/bin/python3 tests/numerics/gen_reference.py

It needs python3-mpmath and, for the p-values and confidence intervals, /usr/bin/Rscript
(without it the "r" section of each JSON is left out and the C test skips those checks).
The output is deterministic (seeded Mersenne Twister, values written with repr()), so
rerunning it reproduces the committed files byte for byte.

How the references are exact:
  - Every value is first rounded to binary64 (the CSV holds repr() of that double, which
    parses back to the same double), and the reference is computed from those doubles, so
    the test measures the solver, not the parsing of decimals.
  - The normal equations X'WX b = X'Wy are formed and solved in exact rational arithmetic
    (fractions.Fraction): b, (X'WX)^-1 and RSS are exact. Square roots and logarithms
    (standard errors, residual SD, log-likelihood) are then taken with mpmath at 60 digits,
    and the results rounded once to binary64 for the JSON.
  - Statistics follow R's summary.lm and logLik.lm with weights: n counts the rows with
    non-zero weight; s^2 = RSS/(n-p); R^2 = 1 - RSS/TSS with TSS centred at the weighted
    mean (uncentred without an intercept); adj R^2 = 1 - (1-R^2)(n-i)/(n-p) with i = 1 with
    an intercept; F = ((TSS-RSS)/(p-i)) / s^2; logLik = 0.5*(sum(log w) - n*(log(2 pi) + 1
    - log(n) + log(RSS))), AIC = -2 logLik + 2(p+1), BIC = -2 logLik + log(n)(p+1).
  - p-values and interval bounds are R's own: the exact t values, F and degrees of freedom
    are handed to Rscript's 2*pt(-|t|, df), qt(1-(1-0.95)/2, df) and pf(F, df1, df2,
    lower.tail = FALSE). R's lm() on the same CSV is run too, and its digits printed, as
    a cross-check of this script (not stored).
  - condition_number: the 2-norm condition number of the design after centring (with an
    intercept, weighted mean) and scaling each column to unit weighted norm, from the
    eigenvalues of that scaled cross-product matrix at 60 digits. The expected correct
    digits of a backward-stable solver are about 16 - log10(condition_number).
"""
import json
import math
import os
import random
import subprocess
import sys
from fractions import Fraction

import mpmath
from mpmath import mp

mp.dps = 60
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "reference"))
RSCRIPT = "/usr/bin/Rscript"
LEVEL = 0.95


def noise(rng):
    """A deterministic roughly normal draw (Irwin-Hall of 12 uniforms), platform-independent."""
    return sum(rng.random() for _ in range(12)) - 6.0


def dataset_shift(name, offset, seed):
    """(a) Two predictors around `offset` with spreads of a few units: the raw design has
    condition ~offset^2, the shifted one is benign."""
    rng = random.Random(seed)
    rows = []
    for i in range(60):
        x1 = float(repr(offset + (i % 20) + round(rng.random(), 2)))
        x2 = float(repr(offset + round(10 * rng.random(), 3)))
        y = 1000.0 + 2.5 * (x1 - offset) - 0.75 * (x2 - offset) + 0.1 * noise(rng)
        rows.append([y, x1, x2])
    return dict(name=name, columns=["y", "x1", "x2"], rows=rows, intercept=True, weights=None,
                note="x1, x2 = %g + a few units (decimals); y linear + noise" % offset)


def dataset_collinear(name, noise_sd, seed):
    """(b) x2 = x1 + 1e-7 * noise: condition ~1e7 after scaling. With y's noise at 0.01 the
    kappa^2 * |r|/|y| term of least-squares sensitivity dominates the error; at 1e-7 the
    kappa term does (collinear_exact)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(100):
        x1 = rng.random() * 10.0
        x2 = x1 + 1e-7 * noise(rng)
        x3 = rng.random() * 5.0
        y = 1.0 + 2.0 * x1 + 3.0 * x2 - 1.5 * x3 + noise_sd * noise(rng)
        rows.append([y, x1, x2, x3])
    return dict(name=name, columns=["y", "x1", "x2", "x3"], rows=rows, intercept=True,
                weights=None, note="x2 = x1 + 1e-7*noise; x3 independent; y noise sd %g" % noise_sd)


def dataset_poly9():
    """(c) Degree-9 polynomial on [1, 10]; the powers are computed in binary64 by repeated
    multiplication left to right and written as data columns."""
    rng = random.Random(3)
    rows = []
    n = 60
    for i in range(n):
        x = 1.0 + 9.0 * i / (n - 1)
        powers = []
        p = x
        for _ in range(9):
            powers.append(p)
            p = p * x
        y = math.sin(x) + 0.01 * noise(rng)
        rows.append([y] + powers)
    return dict(name="poly9", columns=["y"] + ["x%d" % k for k in range(1, 10)], rows=rows,
                intercept=True, weights=None,
                note="columns x, x*x, ..., x^9 (binary64, left to right) for x in [1,10]; "
                     "y = sin(x) + noise")


def dataset_scales():
    """(d) Columns of very different magnitude: 1e-8, 1, 1e8 (and y ~ 1e3)."""
    rng = random.Random(4)
    rows = []
    for _ in range(80):
        x1 = 1e-8 * (1.0 + rng.random())
        x2 = rng.random() * 3.0
        x3 = 1e8 * (rng.random() - 0.5)
        y = 500.0 + 3e10 * x1 + 7.0 * x2 + 2e-6 * x3 + 0.5 * noise(rng)
        rows.append([y, x1, x2, x3])
    return dict(name="scales", columns=["y", "x1", "x2", "x3"], rows=rows, intercept=True,
                weights=None, note="x1 ~ 1e-8, x2 ~ 1, x3 ~ 1e8")


def dataset_exact():
    """(e) y = 3 + 2 x1 - 5 x2 exactly, small integers: RSS = 0."""
    rows = []
    for i in range(20):
        x1 = float(i % 7)
        x2 = float((3 * i) % 5 - 2)
        rows.append([3.0 + 2.0 * x1 - 5.0 * x2, x1, x2])
    return dict(name="exact", columns=["y", "x1", "x2"], rows=rows, intercept=True,
                weights=None, note="y = 3 + 2*x1 - 5*x2 exactly")


def dataset_weighted():
    """(f) Weighted least squares, three rows with weight 0 (one of them the first row)."""
    rng = random.Random(6)
    rows = []
    for i in range(50):
        x1 = rng.random() * 4.0 - 1.0
        x2 = rng.random() * 100.0
        w = float(repr(round(0.25 + 3.0 * rng.random(), 3)))
        if i in (0, 17, 33):
            w = 0.0
        y = -2.0 + 1.25 * x1 + 0.05 * x2 + noise(rng) / math.sqrt(w if w > 0 else 1.0)
        if w == 0.0:
            y += 1000.0  # an outlier that must not matter
        rows.append([y, x1, x2, w])
    return dict(name="weighted", columns=["y", "x1", "x2", "w"], rows=rows, intercept=True,
                weights="w",
                note="weights in [0.25, 3.25], rows 1, 18, 34 with weight 0 (outliers)")


def dataset_noint():
    """(g) No intercept, two predictors with non-zero means (uncentred R^2)."""
    rng = random.Random(7)
    rows = []
    for _ in range(40):
        x1 = 5.0 + rng.random() * 2.0
        x2 = rng.random() * 3.0 - 1.0
        y = 1.5 * x1 - 0.8 * x2 + 0.3 * noise(rng)
        rows.append([y, x1, x2])
    return dict(name="noint", columns=["y", "x1", "x2"], rows=rows, intercept=False,
                weights=None, note="no intercept")


def dataset_plain():
    """Well-conditioned, moderate t values (about 0.5 to 20): the p-value/interval check."""
    rng = random.Random(8)
    rows = []
    for _ in range(30):
        x1 = rng.random() * 10.0
        x2 = rng.random() * 10.0
        x3 = rng.random() * 10.0
        y = 4.0 + 0.02 * x1 + 0.3 * x2 - 1.0 * x3 + noise(rng)
        rows.append([y, x1, x2, x3])
    return dict(name="plain", columns=["y", "x1", "x2", "x3"], rows=rows, intercept=True,
                weights=None, note="well conditioned; t values from ~0.5 to ~20")


# --------------------------------------------------------------------------- exact algebra

def solve_exact(X, y, w):
    """Exact weighted normal equations: returns (b, inverse of X'WX) as Fractions."""
    p = len(X[0])
    A = [[Fraction(0)] * p for _ in range(p)]
    c = [Fraction(0)] * p
    for xi, yi, wi in zip(X, y, w):
        if wi == 0:
            continue
        for j in range(p):
            wx = wi * xi[j]
            c[j] += wx * yi
            for k in range(j, p):
                A[j][k] += wx * xi[k]
    for j in range(p):
        for k in range(j):
            A[j][k] = A[k][j]
    return gauss_jordan(A, c)


def gauss_jordan(A, c):
    """Exact solution b of A b = c and A's inverse (A square, Fractions, non-singular).
    Also used by bench/accuracy.py."""
    p = len(A)
    # Gauss-Jordan on [A | I]: exact, so no pivoting strategy is needed beyond non-zero.
    M = [A[j][:] + [Fraction(int(j == k)) for k in range(p)] for j in range(p)]
    for col in range(p):
        piv = next(r for r in range(col, p) if M[r][col] != 0)
        M[col], M[piv] = M[piv], M[col]
        inv = 1 / M[col][col]
        M[col] = [v * inv for v in M[col]]
        for r in range(p):
            if r != col and M[r][col] != 0:
                f = M[r][col]
                M[r] = [a - f * b for a, b in zip(M[r], M[col])]
    Ainv = [row[p:] for row in M]
    b = [sum(Ainv[j][k] * c[k] for k in range(p)) for j in range(p)]
    return b, Ainv


def condition_number(X, w, intercept):
    """2-norm condition of the centred (with intercept), column-scaled weighted design."""
    cols = list(range(1 if intercept else 0, len(X[0])))
    sw = sum(w)
    means = [sum(wi * xi[j] for xi, wi in zip(X, w)) / sw if intercept else Fraction(0)
             for j in range(len(X[0]))]
    m = len(cols)
    C = [[Fraction(0)] * m for _ in range(m)]
    for xi, wi in zip(X, w):
        if wi == 0:
            continue
        d = [xi[j] - means[j] for j in cols]
        for a in range(m):
            for b in range(a, m):
                C[a][b] += wi * d[a] * d[b]
    S = mp.matrix(m, m)
    for a in range(m):
        for b in range(a, m):
            v = mp.mpf(C[a][b].numerator) / C[a][b].denominator
            v /= mp.sqrt(mp.mpf(C[a][a].numerator) / C[a][a].denominator)
            v /= mp.sqrt(mp.mpf(C[b][b].numerator) / C[b][b].denominator)
            S[a, b] = S[b, a] = v
    ev = mp.eigsy(S, eigvals_only=True)
    ev = sorted(ev[i] for i in range(m))
    return mp.sqrt(ev[-1] / ev[0])


def mpf(q):
    return mp.mpf(q.numerator) / q.denominator


def fnum(v):
    """An mpf as the nearest double; non-finite as None (JSON null)."""
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def reference(ds):
    cols = ds["columns"]
    yi = cols.index("y")
    wcol = cols.index(ds["weights"]) if ds["weights"] else None
    preds = [j for j, c in enumerate(cols) if c not in ("y", ds["weights"])]
    X, Y, W = [], [], []
    for r in ds["rows"]:
        X.append(([Fraction(1)] if ds["intercept"] else []) + [Fraction(r[j]) for j in preds])
        Y.append(Fraction(r[yi]))
        W.append(Fraction(r[wcol]) if wcol is not None else Fraction(1))
    n = sum(1 for wi in W if wi != 0)
    p = len(X[0])
    b, Ainv = solve_exact(X, Y, W)
    res = [yv - sum(bj * xj for bj, xj in zip(b, xv)) for xv, yv in zip(X, Y)]
    rss = sum(wi * r * r for wi, r in zip(W, res))
    if ds["intercept"]:
        ybar = sum(wi * yv for wi, yv in zip(W, Y)) / sum(W)
        tss = sum(wi * (yv - ybar) ** 2 for wi, yv in zip(W, Y))
    else:
        tss = sum(wi * yv * yv for wi, yv in zip(W, Y))
    df = n - p
    icpt = 1 if ds["intercept"] else 0
    s2 = mpf(rss) / df
    s = mp.sqrt(s2)
    se = [s * mp.sqrt(mpf(Ainv[j][j])) for j in range(p)]
    coef = [mpf(bj) for bj in b]
    r2 = 1 - mpf(rss) / mpf(tss)
    adj = 1 - (1 - r2) * mp.mpf(n - icpt) / df
    exact_fit = rss == 0
    if exact_fit:
        tval = [None] * p
        fstat = ll = aic = bic = None
    else:
        tval = [c / e for c, e in zip(coef, se)]
        fstat = (mpf(tss - rss) / (p - icpt)) / s2
        slogw = sum(mp.log(mpf(wi)) for wi in W if wi != 0)
        ll = (slogw - n * (mp.log(2 * mp.pi) + 1 - mp.log(n) + mp.log(mpf(rss)))) / 2
        aic = -2 * ll + 2 * (p + 1)
        bic = -2 * ll + mp.log(n) * (p + 1)
    terms = (["(Intercept)"] if ds["intercept"] else []) + [cols[j] for j in preds]
    out = {
        "name": ds["name"],
        "note": ds["note"],
        "csv": ds["name"] + ".csv",
        "response": "y",
        "predictors": [cols[j] for j in preds],
        "weights": ds["weights"],
        "intercept": ds["intercept"],
        "terms": terms,
        "n": n,
        "n_zero_weight": sum(1 for wi in W if wi == 0),
        "df_residual": df,
        "exact_fit": exact_fit,
        "condition_number": fnum(condition_number(X, W, ds["intercept"])),
        "coefficients": [fnum(c) for c in coef],
        "std_errors": [fnum(e) for e in se],
        "t_values": [fnum(t) for t in tval],
        "rss": fnum(mpf(rss)),
        "tss": fnum(mpf(tss)),
        "residual_sd": fnum(s),
        "r_squared": fnum(r2),
        "adj_r_squared": fnum(adj),
        "f_statistic": fnum(fstat),
        "f_df1": p - icpt,
        "f_df2": df,
        "log_likelihood": fnum(ll),
        "aic": fnum(aic),
        "bic": fnum(bic),
    }
    return out, coef, se, tval, fstat


def r_values(ds, ref, coef, se, tval, fstat, csv_path):
    """p-values and interval bounds from R's pt/qt/pf at the exact t, F and df; and R's lm
    on the same CSV for a printed cross-check."""
    if not os.path.exists(RSCRIPT) or ref["exact_fit"]:
        return None
    g = lambda v: "%.17g" % float(v)
    df = ref["df_residual"]
    preds = " + ".join(ref["predictors"])
    formula = "y ~ %s%s" % ("" if ref["intercept"] else "0 + ", preds)
    wt = ", weights = %s" % ref["weights"] if ref["weights"] else ""
    code = """
t <- c(%s); df <- %d
p <- 2 * pt(-abs(t), df)
q <- qt(1 - (1 - %s) / 2, df)
fp <- pf(%s, %d, %d, lower.tail = FALSE)
d <- read.csv("%s")
m <- lm(%s, data = d%s, tol = 1e-10)
s <- summary(m)
cat(sprintf("%%.17g", p), "\\n")
cat(sprintf("%%.17g", q), "\\n")
cat(sprintf("%%.17g", fp), "\\n")
cat(sprintf("%%.17g", coef(m)), "\\n")
cat(sprintf("%%.17g", s$coefficients[, 2]), "\\n")
cat(sprintf("%%.17g", c(s$sigma, s$r.squared, s$adj.r.squared, s$fstatistic[1],
    logLik(m), AIC(m), BIC(m))), "\\n")
""" % (", ".join(g(t) for t in tval), df, g(LEVEL), g(fstat), ref["f_df1"], df, csv_path,
       formula, wt)
    outp = subprocess.run([RSCRIPT, "--vanilla", "-e", code], check=True, capture_output=True,
                          text=True).stdout.split("\n")
    vec = lambda line: [float("nan") if v == "NA" else float(v) for v in line.split()]
    pv, q, fp = vec(outp[0]), vec(outp[1])[0], vec(outp[2])[0]
    qm = mp.mpf(q)
    lower = [c - qm * e for c, e in zip(coef, se)]
    upper = [c + qm * e for c, e in zip(coef, se)]
    # Cross-check: R's lm digits against this script's exact answer.
    lre = lambda est, cert: (0.0 if not math.isfinite(est) else 15.0 if est == cert else
                             min(15.0, -math.log10(abs(est - cert) / abs(cert))))
    rc, rse, rs = vec(outp[3]), vec(outp[4]), vec(outp[5])
    sc = [ref["residual_sd"], ref["r_squared"], ref["adj_r_squared"], ref["f_statistic"],
          ref["log_likelihood"], ref["aic"], ref["bic"]]
    print("  R lm (tol 1e-10) LRE: coef %.1f  se %.1f  stats %.1f" % (
        min(lre(a, b) for a, b in zip(rc, ref["coefficients"])),
        min(lre(a, b) for a, b in zip(rse, ref["std_errors"])),
        min(lre(a, b) for a, b in zip(rs, sc))))
    return {
        "source": "%s: 2*pt(-abs(t), df), qt(1-(1-level)/2, df), pf(F, df1, df2, "
                  "lower.tail=FALSE) at the exact t, F" % subprocess.run(
                      [RSCRIPT, "--vanilla", "-e", "cat(R.version.string)"],
                      check=True, capture_output=True, text=True).stdout.strip(),
        "level": LEVEL,
        "qt": q,
        "p_values": pv,
        "ci_lower": [fnum(v) for v in lower],
        "ci_upper": [fnum(v) for v in upper],
        "f_p_value": fp,
    }


def write(ds):
    csv_path = os.path.join(OUT, ds["name"] + ".csv")
    with open(csv_path, "w", newline="\n") as f:
        f.write(",".join(ds["columns"]) + "\n")
        for r in ds["rows"]:
            f.write(",".join(repr(float(v)) for v in r) + "\n")
    ref, coef, se, tval, fstat = reference(ds)
    kappa = ref["condition_number"]
    tan = math.sqrt(ref["rss"] / ref["tss"])
    print("%-18s n=%-3d p=%-2d condition %.3g, sqrt(RSS/TSS) %.3g: expect ~%.1f digits "
          "(worst case %.1f), statistics ~%.1f" % (
              ds["name"], ref["n"], len(coef), kappa, tan, 16 - math.log10(kappa),
              16 - math.log10(kappa + kappa * kappa * tan),
              16 - math.log10(kappa) + (math.log10(tan) if tan else -99)))
    r = r_values(ds, ref, coef, se, tval, fstat, csv_path)
    if r is not None:
        ref["r"] = r
    with open(os.path.join(OUT, ds["name"] + ".json"), "w", newline="\n") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    sets = [dataset_shift("shift1e9", 1e9, 11), dataset_shift("shift1e12", 1e12, 12),
            dataset_collinear("collinear", 0.01, 2),
            dataset_collinear("collinear_lownoise", 1e-7, 2), dataset_poly9(), dataset_scales(),
            dataset_exact(),
            dataset_weighted(), dataset_noint(), dataset_plain()]
    for ds in sets:
        write(ds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
