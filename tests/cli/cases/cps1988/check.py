import json
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The textbook model on CPS1988 (Kleiber and Zeileis, Applied Econometrics
# with R, 3.3; the AER package, Debian r-cran-aer), exported by write.csv at
# test time: the book's printed digits, and every statistic equal to R's lm
# (1e-9 relative). The CSV loses the package's level order, so the book's
# baseline is relevel(ethnicity, ref = "cauc"); written bare, ethnicity's
# baseline is afam (byte order, as R with LC_COLLATE=C on the CSV). R or AER
# missing is a failure, not a skip. (stdout: fit --help, unused.)
rscript = require_r("R and AER (Debian r-base-core r-cran-aer)")
tmp = tempfile.mkdtemp()
env = R_ENV


def R_or_stop(code):
    """R's output; without it (AER missing) nothing else can be checked."""
    before = len(failures)
    out = R(code)
    if len(failures) > before:
        finish()
    return out


cps = os.path.join(tmp, "cps1988.csv")
R_or_stop(f'suppressMessages(library(AER)); data("CPS1988"); '
  f'write.csv(CPS1988, "{cps}", row.names = FALSE)')


def r_stats(formula):
    out = R_or_stop(f"""
d <- read.csv("{cps}", stringsAsFactors = TRUE)
m <- lm({formula}, d); s <- summary(m); cf <- coef(s); ci <- confint(m)
for (n in rownames(cf)) cat(sprintf("T\\t%s\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\n", n,
  cf[n, 1], cf[n, 2], cf[n, 3], cf[n, 4], ci[n, 1], ci[n, 2]))
f <- s$fstatistic
cat(sprintf("S\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\n", s$sigma,
  s$r.squared, s$adj.r.squared, f[1], pf(f[1], f[2], f[3], lower.tail = FALSE),
  as.numeric(logLik(m)), AIC(m), BIC(m)))
""")
    terms, stats = [], None
    for line in out.strip().splitlines():
        p = line.split("\t")
        if p[0] == "T":
            terms.append((p[1], [float(v) for v in p[2:]]))
        else:
            stats = [float(v) for v in p[1:]]
    return terms, stats


def check(formula):
    terms, stats = r_stats(formula)
    p = run("fit", formula, cps, "--format", "json")
    if p.returncode:
        fail(f"{formula}: exit {p.returncode} {p.stderr}")
        return None
    got = json.loads(p.stdout)
    if [t["name"] for t in got["terms"]] != [n for n, _ in terms]:
        fail(f"{formula}: terms {[t['name'] for t in got['terms']]} != {[n for n, _ in terms]}")
        return got
    for t, (n, v) in zip(got["terms"], terms):
        for k, w in zip(["estimate", "std_error", "t_value", "p_value", "ci_lower", "ci_upper"], v):
            # p-values below 2.2e-16 are on R's own floating scale: 1e-9 of them
            rel_close(t[k], w, 1e-9, f"{formula}: {n} {k}")
    for k, w in zip(["residual_sd", "r_squared", "adj_r_squared", "f_statistic", "f_p_value",
                     "log_likelihood", "aic", "bic"], stats):
        rel_close(got[k], w, 1e-9, f"{formula}: {k}")
    return got


book = check('log(wage) ~ experience + I(experience^2) + education + '
             'relevel(ethnicity, ref = "cauc")')
if book:
    digits = [f"{t['estimate']:.6f}" for t in book["terms"]]
    if digits != ["4.321395", "0.077473", "-0.001316", "0.085673", "-0.243364"]:
        fail(f"the book's digits: {digits}")
bare = check("log(wage) ~ experience + I(experience^2) + education + ethnicity")
if bare and book:
    if bare["terms"][4]["name"] != "ethnicitycauc":
        fail(f"bare ethnicity: {bare['terms'][4]['name']}")
    rel_close(bare["terms"][4]["estimate"], -book["terms"][4]["estimate"], 1e-12,
              "bare ethnicity = minus the book's")
shutil.rmtree(tmp)
finish()
