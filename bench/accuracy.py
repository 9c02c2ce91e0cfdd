#!/usr/bin/python3
"""bench/accuracy.py - accuracy of csvreg builds and configurations against exact answers.

Generates many random hard least-squares problems (deterministic from --seed), computes their
exact least-squares solution, runs `csvreg fit` of every CONFIG on each, and prints markdown
tables of log relative errors (LRE, correct digits) per config and problem family, and paired
differences against the first CONFIG. Meant for "does this change to the QR accumulation keep
the accuracy profile of LAPACK's dtpqrt?": OpenBLAS core types already differ by a digit or more
on single problems, so one problem says little and a paired comparison over hundreds does.

usage: bench/accuracy.py [--problems N] [--seed S] [--rows N] [--chunk-rows K|default]
                         [--keep DIR] CONFIG...
  CONFIG is LABEL=[VAR=value ...] BINARY, as in bench/ab.sh; the first one is the baseline.
example:
  bench/accuracy.py lapack-haswell='OPENBLAS_CORETYPE=Haswell build/csvreg' \\
    'lapack-prescott=OPENBLAS_CORETYPE=Prescott build/csvreg' 'sse2=CSVREG_SIMD=sse2 build/csvreg'

How the references are exact (as tests/numerics/gen_reference.py, whose noise() is reused):
every value is a binary64 written with repr(), so csvreg parses back the very doubles the
reference uses; the weighted cross-products are sums of integers (each column scaled by a power
of two), the normal equations are solved in fractions.Fraction, so the coefficients, the inverse
and RSS = y'Wy - b'X'Wy are exact; standard errors and the residual SD are square roots taken
with mpmath at 60 digits. kappa is gen_reference's condition_number: the 2-norm condition of the
design centred (with an intercept, at the weighted mean) and scaled to unit weighted column norms.
A backward-stable solver keeps about 16 - log10(kappa) digits of the coefficients, so
"LRE + log10 kappa" compares problems of different conditioning.

csvreg runs with OPENBLAS_NUM_THREADS=1 unless the environment or the CONFIG sets it. Needs
/usr/bin/python3 with python3-mpmath. The default 400 problems take about 10 s for the references
plus about 2 s per config on a 2-vCPU machine; the tables are deterministic for a seed. Without
--keep the CSVs live in a temporary directory removed at the end.
"""
import argparse
import json
import math
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from operator import mul

from mpmath import mp

sys.dont_write_bytecode = True  # no __pycache__ left in tests/numerics by the import below
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "numerics"))
from gen_reference import gauss_jordan, noise  # noqa: E402  (exact solve; the same normal-ish draw)

mp.dps = 60
CAP = 15.9  # LRE of an exact match; digits beyond binary64's are not meaningful
FAMILIES = ("poly", "collinear", "offset", "scales")


# --------------------------------------------------------------------------- problems

def log_uniform(rng, lo, hi):
    return 10.0 ** rng.uniform(math.log10(lo), math.log10(hi))


def family_poly(rng, n):
    """x, x^2, ..., x^d on a narrow interval far from 0: columns nearly collinear. The ratio of
    position to width is picked per degree so log10 kappa lands roughly in 4..12, not far beyond
    the aliasing tolerance (measured: log10 kappa ~ (d-1) * (1.1 + log10(position/width)) for
    ratios >= 1; at ratio 1, high degrees are already at kappa ~1e6..1e8)."""
    d = rng.randint(3, 8)
    target = rng.uniform(4.0, 12.0)
    ratio = 10.0 ** max(0.0, target / (d - 1) - 1.1)
    width = rng.choice([1.0, 10.0, 0.01])
    a = float(ratio * width)
    cols = []
    for _ in range(n):
        x = a + width * rng.random()
        p, row = x, []
        for _ in range(d):  # binary64 powers, left to right, as data columns
            row.append(p)
            p = p * x
        cols.append(row)
    cols = [list(c) for c in zip(*cols)]
    # Every term is O(1) on the interval, so y varies by a small part of its level, as a
    # polynomial trend far from the origin does.
    beta = [rng.uniform(-1, 1) / (a ** k) for k in range(1, d + 1)]
    note = "x^1..x^%d, x in [%.6g, %.6g]" % (d, a, a + width)
    return cols, beta, None, note


def family_collinear(rng, n):
    """x2 = x1 + delta * noise with delta 1e-3..1e-8, plus 0..3 independent columns."""
    delta = 10.0 ** -rng.uniform(3.0, 8.0)
    x1 = [10.0 * rng.random() for _ in range(n)]
    cols = [x1, [v + delta * noise(rng) for v in x1]]
    for _ in range(rng.randint(0, 3)):
        cols.append([rng.uniform(-5.0, 5.0) for _ in range(n)])
    beta = [rng.uniform(-3, 3) for _ in cols]
    return cols, beta, None, "x2 = x1 + %.2g*noise, %d columns" % (delta, len(cols))


def family_offset(rng, n):
    """Columns of 1e6..1e11 + a few units in decimals (timestamps, ids): the raw design has
    condition ~offset^2, the centred one is benign; without an intercept nothing is centred and
    kappa is ~offset/spread."""
    k = rng.randint(2, 5)
    cols, offsets = [], []
    for _ in range(k):
        off = float(round(log_uniform(rng, 1e6, 1e11)))
        spread = log_uniform(rng, 1.0, 100.0)
        cols.append([off + round(spread * rng.random(), 2) for _ in range(n)])
        offsets.append(off)
    beta = [rng.uniform(-3, 3) for _ in cols]
    return cols, beta, offsets, "%d columns, offsets %.2g..%.2g" % (
        k, min(offsets), max(offsets))


def family_scales(rng, n):
    """Columns of magnitudes 1e-6..1e6, mildly correlated through a shared component."""
    k = rng.randint(2, 6)
    rho = 10.0 ** rng.uniform(-2.0, 3.0)
    scales = [10.0 ** rng.uniform(-6.0, 6.0) for _ in range(k)]
    common = [rng.random() for _ in range(n)]
    cols = [[s * (rho * c + rng.random()) for c in common] for s in scales]
    beta = [rng.uniform(-3, 3) / s for s in scales]  # every term contributes O(1) to y
    return cols, beta, None, "%d columns, scales %.1e..%.1e" % (k, min(scales), max(scales))


GENERATORS = dict(poly=family_poly, collinear=family_collinear, offset=family_offset,
                  scales=family_scales)


def make_problem(seed, index, rows):
    """One problem: predictor columns, y, optional weights; deterministic from (seed, index)."""
    family = FAMILIES[index % len(FAMILIES)]
    rng = random.Random("%s/%d" % (seed, index))
    n = rows or int(log_uniform(rng, 300, 3000))
    intercept = rng.random() >= 0.25
    weighted = rng.random() < 0.15
    cols, beta, offsets, note = GENERATORS[family](rng, n)
    b0 = rng.uniform(-10, 10) if intercept else 0.0
    # With an intercept, offsets enter y as (x - offset), as with real timestamps: the intercept
    # absorbs -beta.offset, so y is still design.beta + noise.
    offsets = offsets if intercept else None
    signal = []
    for i in range(n):
        xs = [c[i] - (offsets[j] if offsets else 0.0) for j, c in enumerate(cols)]
        signal.append(b0 + sum(b * x for b, x in zip(beta, xs)))
    # Noise from moderate (10% of the signal's spread) to tiny (1e-14): near-exact fits are hard
    # for the residual SD and standard errors, which come from a tiny RSS. Never below ~100 ulps
    # of y, though: there the residual SD is only y's rounding and no solver gets a digit of it.
    rel = 10.0 ** -rng.uniform(1.0, 14.0)
    sd = max(rel * statistics.pstdev(signal), 1e-14 * max(map(abs, signal)), 1e-300)
    w = [float(round(0.25 + 3.0 * rng.random(), 3)) for _ in range(n)] if weighted else None
    y = [s + sd * noise(rng) / (math.sqrt(w[i]) if w else 1.0) for i, s in enumerate(signal)]
    return dict(index=index, family=family, n=n, intercept=intercept, cols=cols, y=y, w=w,
                note=note + ", noise %.1g" % rel)


def write_csv(prob, path):
    names = ["x%d" % (j + 1) for j in range(len(prob["cols"]))] + ["y"]
    data = prob["cols"] + [prob["y"]]
    if prob["w"]:
        names.append("w")
        data.append(prob["w"])
    with open(path, "w", newline="\n") as f:
        f.write(",".join(names) + "\n")
        for row in zip(*data):
            f.write(",".join(map(repr, row)) + "\n")


# --------------------------------------------------------------------------- exact reference

def as_scaled_ints(values):
    """Doubles as integers over one power-of-two denominator, so the cross-products are exact
    integer dot products (much faster than summing Fractions row by row)."""
    ratios = [v.as_integer_ratio() for v in values]
    den = max(d for _, d in ratios)
    return [m * (den // d) for m, d in ratios], den


def exact_gram(columns, weights):
    """The exact weighted cross-product matrix of the columns, as Fractions."""
    ints = [as_scaled_ints(c) for c in columns]
    if weights is None:
        wints, wden = None, 1
    else:
        wints, wden = as_scaled_ints(weights)
    k = len(columns)
    gram = [[None] * k for _ in range(k)]
    for a in range(k):
        ma, da = ints[a]
        wa = ma if wints is None else list(map(mul, wints, ma))
        for b in range(a, k):
            mb, db = ints[b]
            gram[a][b] = gram[b][a] = Fraction(sum(map(mul, wa, mb)), wden * da * db)
    return gram


def mpf(q):
    return mp.mpf(q.numerator) / q.denominator


def log10_kappa(gram, intercept):
    """gen_reference.condition_number from the cross-products: column 0 of gram is the ones
    column, the predictors follow. Centring is exact: C = G - g g' / sum(w)."""
    idx = range(1, len(gram))
    cen = [[gram[j][k] - (gram[0][j] * gram[0][k] / gram[0][0] if intercept else 0)
            for k in idx] for j in idx]
    m = len(cen)
    s = mp.matrix(m, m)
    for a in range(m):
        for b in range(m):
            s[a, b] = mpf(cen[a][b]) / mp.sqrt(mpf(cen[a][a]) * mpf(cen[b][b]))
    ev = sorted(mp.eigsy(s, eigvals_only=True))
    if ev[0] <= 0:
        return math.inf
    return float(mp.log10(ev[-1] / ev[0]) / 2)


def reference(prob):
    """Exact coefficients (Fractions), SEs and residual SD (mpf), log10 kappa."""
    n = prob["n"]
    ones = [1.0] * n
    gram = exact_gram([ones] + prob["cols"] + [prob["y"]], prob["w"])
    yi = len(gram) - 1
    design = list(range(0 if prob["intercept"] else 1, yi))
    a = [[gram[j][k] for k in design] for j in design]
    c = [gram[j][yi] for j in design]
    b, ainv = gauss_jordan(a, c)
    rss = gram[yi][yi] - sum(bj * cj for bj, cj in zip(b, c))
    df = n - len(design)  # weights are all positive, so n counts every row
    s = mp.sqrt(mpf(rss) / df)
    se = [s * mp.sqrt(mpf(ainv[j][j])) for j in range(len(design))]
    return dict(coef=b, se=se, sigma=s, lkappa=log10_kappa(gram[:yi], prob["intercept"]))


# --------------------------------------------------------------------------- runs and LRE

def parse_config(spec):
    """LABEL=[VAR=value ...] BINARY -> (label, env settings, binary)."""
    label, sep, rest = spec.partition("=")
    words = shlex.split(rest)
    if not sep or not label or not words or "=" in words[-1]:
        raise SystemExit("accuracy.py: bad CONFIG %r (want LABEL=[VAR=value ...] BINARY)" % spec)
    env = dict(w.split("=", 1) for w in words[:-1])
    return label, env, words[-1]


def run_fit(config, prob, csv_path, chunk_rows):
    """Runs csvreg fit; returns (json or None, exit status, message)."""
    _, env_set, binary = config
    cmd = [binary, "fit", "-y", "y", "--format", "json", "--quiet"]
    if not prob["intercept"]:
        cmd.append("--no-intercept")
    if prob["w"]:
        cmd += ["-w", "w"]
    if chunk_rows is not None:
        cmd += ["--chunk-rows", str(chunk_rows)]
    env = dict(os.environ)
    # One BLAS thread: the problems are tiny, and threaded BLAS could change the digits by load.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.update(env_set)
    try:
        r = subprocess.run(cmd + [csv_path], env=env, capture_output=True, text=True)
    except OSError as e:
        return None, -1, str(e)
    if r.returncode != 0:
        return None, r.returncode, r.stderr.strip()
    try:
        return json.loads(r.stdout), 0, ""
    except ValueError as e:
        return None, 0, "bad JSON: %s" % e


def lre(got, ref):
    """Correct digits of got (a double or None) against an exact ref (Fraction or mpf)."""
    if got is None or not math.isfinite(got):
        return 0.0
    if isinstance(ref, Fraction):
        ref = mpf(ref)
    err = abs(mp.mpf(got) - ref)
    if err == 0:
        return CAP
    if ref == 0:
        return None  # no relative error; left out of the statistics
    return max(0.0, min(CAP, float(-mp.log10(err / abs(ref)))))


def min_lre(values):
    values = [v for v in values if v is not None]
    return min(values) if values else None


def score(out, ref):
    """Per-problem LREs: min over coefficients, min over SEs, residual SD. None when a term is
    aliased: a rank-reduced fit answers another question than the exact full-rank one."""
    terms = out["terms"]
    if any(t["aliased"] for t in terms):
        return None
    return dict(coef=min_lre(lre(t["estimate"], r) for t, r in zip(terms, ref["coef"])),
                se=min_lre(lre(t["std_error"], r) for t, r in zip(terms, ref["se"])),
                sigma=lre(out["residual_sd"], ref["sigma"]))


# --------------------------------------------------------------------------- report

def fmt(v, digits=2):
    return "-" if v is None else "%.*f" % (digits, v)


def describe(values):
    """mean, median, min of the non-None values (or Nones)."""
    v = [x for x in values if x is not None]
    if not v:
        return None, None, None
    return statistics.mean(v), statistics.median(v), min(v)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def problems_table(problems, refs):
    rows = []
    for fam in FAMILIES + ("all",):
        ps = [p for p in problems if fam in ("all", p["family"])]
        lk = [refs[p["index"]]["lkappa"] for p in ps]
        rows.append([fam, len(ps), "%d-%d" % (min(p["n"] for p in ps), max(p["n"] for p in ps)),
                     sum(not p["intercept"] for p in ps), sum(bool(p["w"]) for p in ps),
                     fmt(min(lk), 1), fmt(statistics.median(lk), 1), fmt(max(lk), 1)])
    return table(["family", "problems", "rows", "no intercept", "weighted",
                  "log10 kappa min", "median", "max"], rows)


def config_table(labels, problems, refs, scores, aliased):
    rows = []
    for label in labels:
        for fam in FAMILIES + ("all",):
            ps = [p["index"] for p in problems if fam in ("all", p["family"])]
            ok = [i for i in ps if scores[label].get(i)]
            got = [scores[label][i] for i in ok]
            stats = [describe([g[q] for g in got]) for q in ("coef", "se", "sigma")]
            beyond = [g["coef"] + refs[i]["lkappa"] for g, i in zip(got, ok)]
            rows.append([label, fam, len(ok), sum(i in aliased[label] for i in ps)]
                        + [fmt(v) for s in stats for v in s]
                        + [fmt(statistics.mean(beyond) if beyond else None)])
    return table(["config", "family", "n", "aliased",
                  "coef mean", "coef median", "coef min", "SE mean", "SE median", "SE min",
                  "sigma mean", "sigma median", "sigma min", "coef + log10 kappa"], rows)


def paired_diffs(label, base, ps, scores, q):
    """config - baseline LRE of quantity q on the problems both scored."""
    d = []
    for i in ps:
        got, ref = scores[label].get(i), scores[base].get(i)
        if got and ref and got[q] is not None and ref[q] is not None:
            d.append(got[q] - ref[q])
    return d


def mean_se(d):
    return statistics.mean(d), (statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else None)


def paired_table(labels, problems, scores):
    """Coefficients in full (the headline), SEs and residual SD as mean (standard error): a QR
    kernel change moves R, and with it the SEs (R^-1) and the residual norm, not only b."""
    base = labels[0]
    rows = []
    for label in labels[1:]:
        for fam in FAMILIES + ("all",):
            ps = [p["index"] for p in problems if fam in ("all", p["family"])]
            d = paired_diffs(label, base, ps, scores, "coef")
            if not d:
                rows.append([label, fam, 0] + ["-"] * 7)
                continue
            m, se = mean_se(d)
            others = []
            for q in ("se", "sigma"):
                dq = paired_diffs(label, base, ps, scores, q)
                mq, sq = mean_se(dq) if dq else (None, None)
                others.append("-" if mq is None else "%+.3f (%s)" % (mq, fmt(sq, 3)))
            rows.append([label, fam, len(d), "%+.3f" % m, fmt(se, 3),
                         fmt(m / se if se else None, 1),
                         "%.0f%%" % (100.0 * sum(x < -0.5 for x in d) / len(d)),
                         "%.0f%%" % (100.0 * sum(x > 0.5 for x in d) / len(d))] + others)
    return table(["config", "family", "pairs", "mean diff coef LRE", "SE", "t",
                  "worse > 0.5", "better > 0.5", "SE LRE diff (SE)", "sigma LRE diff (SE)"],
                 rows)


# --------------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Accuracy of csvreg configs against exact least-squares answers.",
        epilog="CONFIG: LABEL=[VAR=value ...] BINARY, e.g. "
               "'haswell=OPENBLAS_CORETYPE=Haswell build/csvreg'; the first is the baseline.")
    ap.add_argument("--problems", type=int, default=400, help="number of problems (400)")
    ap.add_argument("--seed", default="1", help="seed of the problems (1)")
    ap.add_argument("--rows", type=int, default=0,
                    help="rows of every problem (default: 300..3000, log-uniform)")
    ap.add_argument("--chunk-rows", default="64",
                    help="csvreg --chunk-rows (64: many folded blocks); 'default' to omit")
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the CSVs, references, csvreg outputs and results.csv in DIR")
    ap.add_argument("configs", nargs="+", metavar="CONFIG")
    args = ap.parse_args(argv)
    args.chunk_rows = None if args.chunk_rows == "default" else int(args.chunk_rows)
    return args


def save_reference(prob, ref, path):
    with open(path, "w") as f:
        json.dump(dict(family=prob["family"], note=prob["note"], n=prob["n"],
                       intercept=prob["intercept"], weighted=bool(prob["w"]),
                       log10_kappa=ref["lkappa"],
                       coefficients=[float(b) for b in ref["coef"]],
                       coefficients_exact=[str(b) for b in ref["coef"]],
                       std_errors=[float(s) for s in ref["se"]],
                       residual_sd=float(ref["sigma"])), f, indent=1)


def save_results(path, labels, problems, refs, scores):
    with open(path, "w") as f:
        f.write("problem,family,n,intercept,weighted,log10_kappa,config,coef_lre,se_lre,"
                "sigma_lre\n")
        for p in problems:
            for label in labels:
                s = scores[label].get(p["index"]) or {}
                f.write("%d,%s,%d,%d,%d,%.3f,%s,%s,%s,%s\n" % (
                    p["index"], p["family"], p["n"], p["intercept"], bool(p["w"]),
                    refs[p["index"]]["lkappa"], label,
                    *(fmt(s.get(q), 3) for q in ("coef", "se", "sigma"))))


def study(args, configs, workdir):
    """Generates, references and runs every problem. Returns what the report needs."""
    labels = [c[0] for c in configs]
    problems, refs = [], {}
    scores = {label: {} for label in labels}
    aliased = {label: set() for label in labels}
    failures = []
    t_ref = t_run = 0.0
    for index in range(args.problems):
        t0 = time.monotonic()
        prob = make_problem(args.seed, index, args.rows)
        name = "p%04d-%s" % (index, prob["family"])
        csv_path = os.path.join(workdir, name + ".csv")
        write_csv(prob, csv_path)
        ref = reference(prob)
        if args.keep:
            save_reference(prob, ref, os.path.join(workdir, name + ".ref.json"))
        prob.update(cols=None, y=None, w=bool(prob["w"]))  # the CSV holds them; free memory
        problems.append(prob)
        refs[index] = ref
        t1 = time.monotonic()
        for config in configs:
            label = config[0]
            out, rc, err = run_fit(config, prob, csv_path, args.chunk_rows)
            if out is None:
                failures.append("%s on %s: exit %d: %s" % (label, name, rc, err))
            else:
                if args.keep:
                    with open(os.path.join(workdir, "%s.%s.json" % (name, label)), "w") as f:
                        json.dump(out, f, indent=1)
                s = score(out, ref)
                if s is None:
                    aliased[label].add(index)
                else:
                    scores[label][index] = s
        t_run += time.monotonic() - t1
        t_ref += t1 - t0
        if not args.keep:
            os.remove(csv_path)
    return labels, problems, refs, scores, aliased, failures, (t_ref, t_run)


def main(argv):
    args = parse_args(argv)
    configs = [parse_config(s) for s in args.configs]
    if len({c[0] for c in configs}) != len(configs):
        raise SystemExit("accuracy.py: config labels must differ")
    start = time.monotonic()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        result = study(args, configs, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="csvreg-accuracy-") as tmp:
            result = study(args, configs, tmp)
    labels, problems, refs, scores, aliased, failures, (t_ref, t_run) = result
    if args.keep:
        save_results(os.path.join(args.keep, "results.csv"), labels, problems, refs, scores)

    print("# csvreg accuracy study\n")
    print("command: `%s`\n" % " ".join(shlex.quote(a) for a in [sys.argv[0]] + argv))
    print("%d problems, seed %s, rows %s, --chunk-rows %s; LRE capped at %.1f; per problem the "
          "min over coefficients and over SEs.\n" % (
              args.problems, args.seed, args.rows or "300..3000",
              args.chunk_rows or "default", CAP))
    print("## Problems\n\n" + problems_table(problems, refs) + "\n")
    print("## LRE per config (n: full-rank fits scored; aliased: fits with an aliased term, "
          "not scored)\n\n" + config_table(labels, problems, refs, scores, aliased) + "\n")
    if len(labels) > 1:
        print("## LRE paired against %s (diff = config - baseline, on problems both fitted at "
              "full rank)\n\n" % labels[0] + paired_table(labels, problems, scores) + "\n")
        print("t = mean / SE; per row, |t| > 2 is unlikely (about 5%) when the config keeps "
              "the baseline's accuracy profile; 'worse > 0.5': share of problems with config "
              "coef LRE < baseline - 0.5.\n")
    print("wall time %.1f s (references %.1f s, csvreg runs %.1f s)" % (
        time.monotonic() - start, t_ref, t_run))
    if failures:
        print("\n## csvreg failures (%d)\n" % len(failures))
        for f in failures:
            print("- " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
