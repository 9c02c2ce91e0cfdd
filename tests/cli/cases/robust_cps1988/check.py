import json
import os
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The CPS1988 textbook model (AER's data, written by write.csv at test time
# as case cps1988 does) with --vcov HC1 and HC3: every coefficient's
# estimate, standard error, t, p and interval equal lmtest::coeftest /
# coefci with sandwich::vcovHC, the JSON vcov equal to vcovHC, and the F
# test equal to lmtest::waldtest(vcov = V, test = "F"); 1e-9 relative.
# (stdout: fit --help, unused.)
require_r("R, AER, sandwich and lmtest (Debian r-cran-aer r-cran-sandwich r-cran-lmtest)")
tmp = tempfile.mkdtemp()
cps = os.path.join(tmp, "cps1988.csv")
FORMULA = 'log(wage) ~ experience + I(experience^2) + education + relevel(ethnicity, ref = "cauc")'
before = len(failures)
out = R(f'''suppressMessages({{library(AER); library(sandwich); library(lmtest)}})
data("CPS1988"); write.csv(CPS1988, "{cps}", row.names = FALSE)
d <- read.csv("{cps}", stringsAsFactors = TRUE); m <- lm({FORMULA}, d)
for (t in c("HC1", "HC3")) {{
  V <- vcovHC(m, type = t); ct <- coeftest(m, vcov. = V); ci <- coefci(m, vcov. = V)
  for (n in rownames(ct)) cat(sprintf("T\\t%s\\t%s\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\t%.17g\\n",
    t, n, ct[n, 1], ct[n, 2], ct[n, 3], ct[n, 4], ci[n, 1], ci[n, 2]))
  w <- waldtest(m, vcov = V, test = "F")
  cat(sprintf("F\\t%s\\t%.17g\\t%.17g\\n", t, w$F[2], w[2, "Pr(>F)"]))
  for (i in rownames(V)) for (j in colnames(V)) cat(sprintf("V\\t%s\\t%s\\t%s\\t%.17g\\n", t, i, j, V[i, j]))
}}''')
if len(failures) > before:
    finish()
T, F, V = {}, {}, {}
for line in out.strip().splitlines():
    p = line.split("\t")
    if p[0] == "T":
        T.setdefault(p[1], {})[p[2]] = [float(v) for v in p[3:]]
    elif p[0] == "F":
        F[p[1]] = (float(p[2]), float(p[3]))
    elif p[0] == "V":
        V[(p[1], p[2], p[3])] = float(p[4])
for t in ("HC1", "HC3"):
    p = run("fit", FORMULA, cps, "--vcov", t, "--format", "json")
    if p.returncode:
        fail(f"{t}: exit {p.returncode}: {p.stderr}")
        continue
    j = json.loads(p.stdout)
    if j.get("vcov_type") != t or len(j["terms"]) != len(T.get(t, {})):
        fail(f"{t}: vcov_type {j.get('vcov_type')}, {len(j['terms'])} terms")
        continue
    names = [x["name"] for x in j["terms"]]
    for x in j["terms"]:
        r = T[t].get(x["name"])
        if r is None:
            fail(f"{t}: {x['name']} not in R's table")
            continue
        for k, key in enumerate(("estimate", "std_error", "t_value", "p_value", "ci_lower",
                                 "ci_upper")):
            rel_close(x[key], r[k], 1e-9, f"{t}: {x['name']} {key}")
    rel_close(j["f_statistic"], F[t][0], 1e-9, f"{t}: Wald F")
    rel_close(j["f_p_value"], F[t][1], 1e-9, f"{t}: Wald F p")
    for a, na in enumerate(names):
        for b, nb in enumerate(names):
            rel_close(j["vcov"][a][b], V.get((t, na, nb)), 1e-9, f"{t}: vcov[{na}, {nb}]")
finish()
