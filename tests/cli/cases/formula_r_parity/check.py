import json
import os
import random
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Issue 12's acceptance, every statistic: formula fits compared with R's lm
# on every number `fit --format json` reports (estimate, SE, t, p, CI, sigma,
# R², adjusted R², F and its p, logLik, AIC, BIC) to 1e-10 relative: factors,
# (a + g + h)^2 with two factors and a number, relevel, poly(raw), I(), a log
# response, a weighted factor fit, no intercept, and mtcars' mpg ~ wt *
# factor(cyl) + hp. R reads the same CSV (LC_COLLATE=C: levels in byte
# order, as csvreg). R missing is a failure, not a skip. (stdout: fit --help,
# unused.)
rscript = require_r()
tmp = tempfile.mkdtemp()
TOL = 1e-10

rng = random.Random(20261205)
data = os.path.join(tmp, "d.csv")
with open(data, "w") as f:
    f.write("y,z,a,b,w,g,h\n")
    for i in range(97):
        a = rng.uniform(-3, 5)
        b = rng.gauss(10, 4)
        g = "pqr"[i % 3]
        h = ["lo", "hi"][(i // 3) % 2]
        w = rng.uniform(0.2, 3)
        eff = {"p": 0.0, "q": 1.5, "r": -2.0}[g] + (0.7 if h == "hi" else 0.0)
        y = 1.0 + 0.8 * a - 0.3 * b + 0.05 * a * a + eff + 0.4 * a * (h == "hi") + \
            rng.gauss(0, 1.0) / w ** 0.5
        z = 2.0 ** (0.3 * a + 0.05 * b + eff / 3 + rng.gauss(0, 0.2))
        f.write(f"{y!r},{z!r},{a!r},{b!r},{w!r},{g},{h}\n")
mt = os.path.join(tmp, "mtcars.csv")
R(f'write.csv(mtcars, "{mt}", row.names = FALSE)')
if failures:
    finish()

# (csvreg formula, extra csvreg arguments, R's lm call on d)
CASES = [
    ("y ~ a + g", [], "lm(y ~ a + g, d)"),
    ("y ~ (a + g + h)^2", [], "lm(y ~ (a + g + h)^2, d)"),
    ('y ~ relevel(g, ref = "q") + a * h', [], 'lm(y ~ relevel(g, ref = "q") + a * h, d)'),
    ("y ~ poly(a, 3, raw = TRUE) + b", [], "lm(y ~ poly(a, 3, raw = TRUE) + b, d)"),
    ("y ~ a + I(a^2) + I(b / 10) + h", [], "lm(y ~ a + I(a^2) + I(b / 10) + h, d)"),
    ("log(z) ~ a + b + g", [], "lm(log(z) ~ a + b + g, d)"),
    ("y ~ a * g + b", ["-w", "w"], "lm(y ~ a * g + b, d, weights = w)"),
    ("y ~ 0 + a + g", [], "lm(y ~ 0 + a + g, d)"),
    ("y ~ a + b - 1", [], "lm(y ~ a + b - 1, d)"),
    ("y ~ a + b + h - 1", ["-w", "w"], "lm(y ~ a + b + h - 1, d, weights = w)"),
]


def r_stats(call, path):
    out = R(f"""
d <- read.csv("{path}", stringsAsFactors = TRUE)
m <- {call}; s <- summary(m); cf <- coef(s); ci <- confint(m)
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
        elif p[0] == "S":
            stats = [float(v) for v in p[1:]]
    return terms, stats


def check(formula, extra, call, path):
    terms, stats = r_stats(call, path)
    if stats is None:
        fail(f"{formula}: no answer from R")
        return
    p = run("fit", formula, path, "--format", "json", *extra)
    if p.returncode:
        fail(f"{formula}: exit {p.returncode} {p.stderr}")
        return
    got = json.loads(p.stdout)
    if [t["name"] for t in got["terms"]] != [n for n, _ in terms]:
        fail(f"{formula}: terms {[t['name'] for t in got['terms']]} != {[n for n, _ in terms]}")
        return
    for t, (n, v) in zip(got["terms"], terms):
        for k, w in zip(["estimate", "std_error", "t_value", "p_value", "ci_lower", "ci_upper"], v):
            rel_close(t[k], w, TOL, f"{formula}: {n} {k}")
    for k, w in zip(["residual_sd", "r_squared", "adj_r_squared", "f_statistic", "f_p_value",
                     "log_likelihood", "aic", "bic"], stats):
        rel_close(got[k], w, TOL, f"{formula}: {k}")
    print(f"{formula} {' '.join(extra)}: {len(terms)} terms, 14 statistics each/overall = R")


for formula, extra, call in CASES:
    check(formula, extra, call, data)
check("mpg ~ wt * factor(cyl) + hp", [], "lm(mpg ~ wt * factor(cyl) + hp, d)", mt)
shutil.rmtree(tmp)
finish()
