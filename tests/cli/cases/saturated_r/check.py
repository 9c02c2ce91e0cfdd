import json
import os
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# A saturated fit (rank = n: no residual degrees of freedom) interpolates its
# rows: R's lm has residuals and RSS exactly 0, so summary() gives sigma,
# adjusted R² and F NaN, R² 1, and logLik Inf, AIC and BIC -Inf. csvreg's
# kernel leaves rounding in its RSS (it printed logLik 269.397 on small.csv);
# the fit must say what R says: RSS 0, R² 1, and in the text report
# "Log-likelihood: Inf", "AIC: -Inf", "BIC: -Inf"; JSON holds no infinity or
# NaN, so those are null there as every other non-finite number. Unweighted,
# weighted, both solvers. (stdout: the JSON of small.csv, checked below.)
require_r()
tmp = tempfile.mkdtemp()


def r_stats(call, path):
    out = R(f"""
d <- read.csv("{path}", stringsAsFactors = TRUE)
m <- {call}; s <- summary(m); f <- s$fstatistic
cat(sprintf("%.17g\\n", c(deviance(m), s$sigma, s$r.squared, s$adj.r.squared, f[1],
  as.numeric(logLik(m)), AIC(m), BIC(m))))
cat(format(as.numeric(logLik(m))), format(AIC(m)), format(BIC(m)), "\\n")
""")
    lines = out.strip().splitlines()
    return [float(v) for v in lines[:8]], lines[8].split()


def as_json(v):
    """R's number as csvreg's JSON writes it: non-finite is null."""
    return v if v == v and abs(v) != float("inf") else None


def check(call, path, args, got_json=None):
    what = f"{call} {' '.join(args)}"
    want, shown = r_stats(call, path)
    if got_json is None:
        p = run("fit", *args, path, "--format", "json", "--quiet")
        if p.returncode:
            fail(f"{what}: exit {p.returncode} {p.stderr}")
            return
        got_json = p.stdout
    got = json.loads(got_json)
    if got["df_residual"] != 0:
        fail(f"{what}: df_residual {got['df_residual']}, not a saturated fit")
    if want[0] != 0 or got["rss"] != 0:
        fail(f"{what}: RSS {got['rss']}, R's deviance {want[0]}")
    for k, w in zip(["residual_sd", "r_squared", "adj_r_squared", "f_statistic",
                     "log_likelihood", "aic", "bic"], want[1:]):
        rel_close(got[k], as_json(w), 1e-15, f"{what}: {k}")
    p = run("fit", *args, path, "--quiet")
    line = [l for l in p.stdout.splitlines() if l.startswith("Log-likelihood:")]
    want_line = f"Log-likelihood: {shown[0]} (df={got['rank'] + 1}),  AIC: {shown[1]},  BIC: {shown[2]}"
    if line != [want_line]:
        fail(f"{what}: text report {line}, R {want_line!r}")
    print(f"{what}: R's RSS {want[0]}, logLik {shown[0]}, AIC {shown[1]}, BIC {shown[2]}: same")


with open(sys.argv[1]) as f:
    check("lm(y ~ x1 + x2 + label, d)", "small.csv", ["-y", "y"], f.read())
check("lm(y ~ x1 + x2 + label, d)", "small.csv", ["-y", "y", "--solver", "normal"])
weighted = os.path.join(tmp, "w.csv")
with open("small.csv") as src, open(weighted, "w") as out:
    rows = src.read().strip().splitlines()
    out.write(rows[0] + ",w\n")
    for i, r in enumerate(rows[1:]):
        out.write(f"{r},{1 + i % 3}\n")
check("lm(y ~ x1 + label, d, weights = w)", weighted, ["y ~ x1 + label", "-w", "w"])
check("lm(y ~ x1 + label, d, weights = w)", weighted,
      ["y ~ x1 + label", "-w", "w", "--solver", "normal"])
shutil.rmtree(tmp)
finish()
