import json
import os
import random
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit --vcov (issue 13) against R's sandwich and lmtest, run here: on
# generated heteroskedastic data, HC0..HC3 (vcovHC), one-way clusters with
# one-row clusters and two-way clusters (vcovCL, type HC1, cadjust, CGM),
# a weighted fit with a zero weight, an aliased column, a categorical term;
# the coefficient table as lmtest::coeftest / coefci, the JSON vcov as the
# robust matrix, the F test as lmtest::waldtest(vcov = V, test = "F"), all
# to 1e-9 relative. --threads 2 and --chunk-rows 7 equal one thread
# (1e-11). (cmd: fit --help, unused.)
require_r("R's sandwich and lmtest (Debian r-cran-sandwich r-cran-lmtest)")
tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "h.csv")
rnd = random.Random(7)
with open(data, "w") as o:
    o.write("y,x1,x2,x3,g,h,f,w,k,v\n")
    for i in range(500):
        x1 = rnd.gauss(0, 1)
        x2 = rnd.uniform(-2, 3)
        g = "c%d" % (i % 37) if i < 480 else "solo%d" % i  # 20 one-row clusters
        h = "t%d" % rnd.randrange(7)
        f = rnd.choice(["a", "b", "c"])
        w = 0 if i == 11 else round(rnd.uniform(0.5, 2), 3)
        y = 1 + 2 * x1 - x2 + (0.5 if f == "b" else 0) + rnd.gauss(0, 1) * (0.5 + abs(x1))
        # row 21 is dropped as missing in both passes
        o.write(f"{y:.6f},{x1:.6f},{'NA' if i == 20 else f'{x2:.6f}'},{round(x1, 6) + round(x2, 6):.6f},{g},{h},{f},{w},"
                f"{i % 11},{w or 1}\n")

PRE = f'suppressMessages({{library(sandwich); library(lmtest)}}); d <- read.csv("{data}", stringsAsFactors = TRUE); '
OUT = r'''
ct <- coeftest(m, vcov. = V); ci <- coefci(m, vcov. = V)
for (n in rownames(ct)) cat(sprintf("T\t%s\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\n", n,
  ct[n, 1], ct[n, 2], ct[n, 3], ct[n, 4], ci[n, 1], ci[n, 2]))
b <- coef(m); b <- b[!is.na(b)]; o <- names(b) != "(Intercept)"
st <- drop(t(b[o]) %*% solve(V[o, o, drop = FALSE]) %*% b[o]) / sum(o)
if (!any(is.na(coef(m)))) { wt <- waldtest(m, vcov = V, test = "F"); st <- wt$F[2] }
cat(sprintf("F\t%.17g\t%d\t%.17g\n", st, sum(o), pf(st, sum(o), df.residual(m), lower.tail = FALSE)))
for (i in rownames(V)) for (j in colnames(V)) cat(sprintf("V\t%s\t%s\t%.17g\n", i, j, V[i, j]))
'''


PENDING = []


def r_refs():
    """R's tables for every case in PENDING, in one R run (tagged by case)."""
    code = PRE
    for i, (model, vcov) in enumerate(PENDING):
        code += f"m <- {model}; V <- {vcov}; cat('C\\t{i}\\n'); " + OUT
    script = os.path.join(tmp, "refs.R")  # too long for Rscript -e
    with open(script, "w") as o:
        o.write(code)
    r = subprocess.run([require_r(), script], capture_output=True, text=True, env=R_ENV)
    if r.returncode:
        fail(f"R: {r.stderr}")
    out = r.stdout
    refs, cur = [], None
    for line in out.strip().splitlines():
        p = line.split("\t")
        if p[0] == "C":
            cur = ({}, None, {})
            refs.append(cur)
        elif p[0] == "T":
            cur[0][p[1]] = [float(v) for v in p[2:]]
        elif p[0] == "F":
            refs[-1] = cur = (cur[0], (float(p[1]), int(p[2]), float(p[3])), cur[2])
        elif p[0] == "V":
            cur[2][(p[1], p[2])] = float(p[3])
    return refs


def fit_json(*args):
    p = run("fit", *args, data, "--format", "json")
    if p.returncode:
        fail(f"{args}: exit {p.returncode}: {p.stderr}")
        return None
    return json.loads(p.stdout)


CHECKS = []


def check(args, model, vcov, vtype, clusters=None):
    PENDING.append((model, vcov))
    CHECKS.append((args, vtype, clusters))


def compare(args, vtype, clusters, ref):
    what = " ".join(args)
    j = fit_json(*args)
    if j is None:
        return None
    terms, F, V = ref
    if j.get("vcov_type") != vtype:
        fail(f"{what}: vcov_type {j.get('vcov_type')}, want {vtype}")
    if clusters is not None and [c["clusters"] for c in j.get("clusters", [])] != clusters:
        fail(f"{what}: clusters {j.get('clusters')}, want {clusters}")
    names = [t["name"] for t in j["terms"]]
    for t in j["terms"]:
        if t["aliased"]:
            if t["name"] in terms or t["std_error"] is not None:
                fail(f"{what}: aliased {t['name']}")
            continue
        r = terms.get(t["name"])
        if r is None:
            fail(f"{what}: {t['name']} not in R's table")
            continue
        for k, key in enumerate(("estimate", "std_error", "t_value", "p_value", "ci_lower",
                                 "ci_upper")):
            rel_close(t[key], r[k], 1e-9, f"{what}: {t['name']} {key}")
    if len(terms) != sum(not t["aliased"] for t in j["terms"]):
        fail(f"{what}: {len(terms)} terms in R's table")
    rel_close(j["f_statistic"], F[0], 1e-9, f"{what}: Wald F")
    rel_close(j["f_df1"], float(F[1]), 0, f"{what}: F df1")
    rel_close(j["f_p_value"], F[2], 1e-9, f"{what}: Wald F p")
    for a, na in enumerate(names):
        for b, nb in enumerate(names):
            rel_close(j["vcov"][a][b], V.get((na, nb)), 1e-9, f"{what}: vcov[{na}, {nb}]")
    return j


for t in ("HC0", "HC1", "HC2", "HC3"):
    check(["-y", "y", "-x", "x1,x2", "--vcov", t], "lm(y ~ x1 + x2, d)",
          f'vcovHC(m, type = "{t}")', t)
# weights as lm(weights=), one of them 0 (in the model frame: N counts it);
# HC2/HC3 with weights v, none 0: with a zero weight R's hatvalues() leave
# that row out and meatHC recycles them against the residuals (misaligned),
# where csvreg gives the row leverage 0
for t in ("HC0", "HC1"):
    check(["-y", "y", "-x", "x1,x2", "-w", "w", "--vcov", t],
          "lm(y ~ x1 + x2, d, weights = w)", f'vcovHC(m, type = "{t}")', t)
for t in ("HC2", "HC3"):
    check(["-y", "y", "-x", "x1,x2", "-w", "v", "--vcov", t],
          "lm(y ~ x1 + x2, d, weights = v)", f'vcovHC(m, type = "{t}")', t)
check(["-y", "y", "-x", "x1,x2", "-w", "w", "--vcov", "cluster", "--cluster", "g"],
      "lm(y ~ x1 + x2, d, weights = w)", "vcovCL(m, cluster = ~ g)", "cluster", [57])
# an aliased column: R drops it from V and the table
check(["y ~ x1 + x2 + x3", "--vcov", "HC3"], "lm(y ~ x1 + x2 + x3, d)",
      'vcovHC(m, type = "HC3")', "HC3")
check(["y ~ x1 + x2 + x3", "--vcov", "cluster", "--cluster", "h"], "lm(y ~ x1 + x2 + x3, d)",
      "vcovCL(m, cluster = ~ h)", "cluster", [7])
# a categorical term (the second pass reads with the fit's levels)
check(["y ~ x1 + f", "--vcov", "HC2"], "lm(y ~ x1 + f, d)", 'vcovHC(m, type = "HC2")', "HC2")
# clusters: one-way (20 one-row clusters), numeric cells, two-way
check(["-y", "y", "-x", "x1,x2", "--vcov", "cluster", "--cluster", "g"], "lm(y ~ x1 + x2, d)",
      "vcovCL(m, cluster = ~ g)", "cluster", [57])
check(["-y", "y", "-x", "x1,x2", "--vcov", "cluster", "--cluster", "k"], "lm(y ~ x1 + x2, d)",
      "vcovCL(m, cluster = ~ k)", "cluster", [11])
check(["-y", "y", "-x", "x1,x2", "--vcov", "cluster", "--cluster", "g,h"],
      "lm(y ~ x1 + x2, d)", "vcovCL(m, cluster = ~ g + h)", "cluster", [57, 7])
check(["y ~ x1 + f", "--vcov", "cluster", "--cluster", "h,g"], "lm(y ~ x1 + f, d)",
      "vcovCL(m, cluster = ~ h + g)", "cluster", [7, 57])

refs = r_refs()
if len(refs) != len(CHECKS):
    fail(f"R gave {len(refs)} of {len(CHECKS)} cases")
    finish()
for (args, vtype, clusters), ref in zip(CHECKS, refs):
    j = compare(args, vtype, clusters, ref)
    if j and "g,h" in args and not (0 < j.get("clusters_intersection", 0) <= 500):
        fail(f"clusters_intersection {j.get('clusters_intersection')}")

# threads and chunk sizes change only rounding
for args in (["-y", "y", "-x", "x1,x2", "-w", "v", "--vcov", "HC3"],
             ["y ~ x1 + f", "--vcov", "cluster", "--cluster", "g,h"]):
    one = fit_json(*args)
    for extra in (["--threads", "2"], ["--chunk-rows", "7"], ["--chunk-rows", "7", "--threads", "2"]):
        other = fit_json(*args, *extra)
        if not one or not other:
            continue
        for a, b in zip(one["terms"], other["terms"]):
            rel_close(b["std_error"], a["std_error"], 1e-11, f"{args} {extra}: {a['name']} se")
        for ra, rb in zip(one["vcov"], other["vcov"]):
            for va, vb in zip(ra, rb):
                rel_close(vb, va, 1e-11, f"{args} {extra}: vcov")
        rel_close(other["f_statistic"], one["f_statistic"], 1e-11, f"{args} {extra}: F")

# a cluster cell that is NA is an error (as vcovCL's); stdin is refused
bad = os.path.join(tmp, "na.csv")
with open(bad, "w") as o:
    o.write("y,x,g\n1,1,a\n2,2,b\n3,3,NA\n4,5,b\n")
p = run("fit", "-y", "y", "-x", "x", "--vcov", "cluster", "--cluster", "g", bad)
if p.returncode != 3 or "missing value in the cluster column 'g'" not in p.stderr:
    fail(f"NA cluster: exit {p.returncode}: {p.stderr}")

# the text report says which covariance
p = run("fit", "-y", "y", "-x", "x1,x2", "--vcov", "cluster", "--cluster", "g,h", data)
if "clustered by g (57 clusters) and h (7 clusters" not in p.stdout or "Wald F-statistic (cluster)" not in p.stdout:
    fail("text report: " + p.stdout)
finish()
