import json
import os
import random
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Intervals of a model fitted with --vcov (issue 13, "prediction intervals
# from a model fitted this way where defined"). predict.lm takes no vcov, so
# R computes them explicitly: V = sandwich::vcovHC(m, type) (vcovCL for
# clusters), X the new rows' model matrix, se = sqrt(rowSums((X %*% V) * X));
# confidence = fit -/+ qt(0.975, df) se; prediction adds sigma^2 / w of the
# new observation (w = 1, or the new rows' weights), as statsmodels'
# get_prediction under a robust cov_type, on t (as lmtest::coefci). 1e-10
# relative; the model of the sharded recipe (solve -m MODEL MEAT -o) too,
# whose intervals were the classical ones before. Also: the model keeps "robust" (type and a p x p matrix), a
# classical model has none and its intervals are unchanged, an edited
# matrix fails the checksum, a damaged member is refused.
require_r("R and sandwich (Debian r-base-core r-cran-sandwich)")
tmp = tempfile.mkdtemp()
rng = random.Random(1313)
train = os.path.join(tmp, "train.csv")
new = os.path.join(tmp, "new.csv")
with open(train, "w") as f:
    f.write("y,x,g,w,cl\n")
    for i in range(150):
        x, g, w = rng.uniform(0, 10), rng.choice("abc"), rng.uniform(0.5, 3)
        e = rng.gauss(0, 0.3 + 0.4 * x) / w ** 0.5
        f.write(f"{1 + 0.7 * x + 0.5 * (g == 'b') - (g == 'c') + e!r},{x!r},{g},{w!r},k{i % 17}\n")
with open(new, "w") as f:
    f.write("x,g,nw\n")
    for i in range(25):
        f.write(f"{rng.uniform(-2, 14)!r},{rng.choice('abc')},{rng.uniform(0.2, 5)!r}\n")

PRE = (f'suppressMessages(library(sandwich)); d <- read.csv("{train}", stringsAsFactors = TRUE); '
       f'nd <- read.csv("{new}", stringsAsFactors = TRUE); ')


def r_bounds(lm_call, vcov):
    """R's bounds for confidence, prediction and prediction with the new
    rows' weights, in one R run (R starts slowly on a loaded machine)."""
    out = R(PRE + f"""
m <- {lm_call}; V <- {vcov}
X <- model.matrix(delete.response(terms(m)), nd, xlev = m$xlevels)
fit <- drop(X %*% coef(m)); se2 <- rowSums((X %*% V) * X); s2 <- summary(m)$sigma^2
q <- qt(0.975, m$df.residual)
for (k in 1:3) {{
  v <- se2 + c(0, s2, s2)[k] / (if (k == 3) nd$nw else 1)
  h <- q * sqrt(v)
  cat(sprintf("%d,%.17g,%.17g,%.17g\\n", k, fit, fit - h, fit + h), sep = "")
}}
""")
    got = {1: [], 2: [], 3: []}
    for line in out.strip().splitlines():
        k, *v = line.split(",")
        got[int(k)].append([float(x) for x in v])
    return got


def sharded_model(fit_args, model):
    """The model of the sharded recipe (docs/engines.md): pass 1 in three
    ranges merged and solved to a model, pass 2's meat states in two ranges
    solved with -m and saved with -o."""
    k = fit_args.index("--vcov")
    first, second = fit_args[:k], fit_args[k:]
    pass1 = os.path.join(tmp, "pass1.json")
    states = "".join(run("fit", "--emit-state", *first, "--range", f"{i}/3", train).stdout
                     for i in (1, 2, 3))
    p = run("solve", "-o", pass1, input=states)
    meat = "".join(run("fit", "--emit-state", *second, "-m", pass1, "--range", f"{i}/2",
                       train).stdout for i in (1, 2))
    q = run("solve", "-m", pass1, "-o", model, input=meat) if not p.returncode else p
    return q


def check(fit_args, lm_call, vcov, vtype, sharded=False):
    model = os.path.join(tmp, "m.json")
    p = sharded_model(fit_args, model) if sharded else run("fit", *fit_args, train, "-o", model)
    if p.returncode:
        fail(f"{fit_args}: fit exit {p.returncode} {p.stderr}")
        return None
    if sharded:
        fit_args = fit_args + ["(sharded)"]
    m = json.load(open(model))
    rob = m.get("robust")
    q = len(m["fit"]["terms"])
    if not rob or rob["type"] != vtype or len(rob["vcov"]) != q or \
            any(len(r) != q for r in rob["vcov"]):
        fail(f"{fit_args}: robust member {rob}")
        return None
    want_all = r_bounds(lm_call, vcov)
    for k, interval, pargs in ((1, "confidence", []), (2, "prediction", []),
                               (3, "prediction", ["-w", "nw"])):
        p = run("predict", "-m", model, "--interval", interval, *pargs, new)
        if p.returncode:
            fail(f"{fit_args} {interval} {pargs}: exit {p.returncode} {p.stderr}")
            continue
        rows = read_csv(p.stdout, text=True)[1:]
        want = want_all[k]
        if len(rows) != len(want):
            fail(f"{fit_args} {interval}: {len(rows)} rows, R {len(want)}")
        for i, (row, w) in enumerate(zip(rows, want)):
            for j, c in enumerate(("prediction", "lower", "upper")):
                rel_close(float(row[-3 + j]), w[j], 1e-10,
                          f"{fit_args} {interval} {pargs} row {i} {c}")
        print(f"{' '.join(fit_args)}: {interval} {' '.join(pargs)} = R ({len(rows)} rows)")
    return model


for t in ("HC0", "HC1", "HC3"):
    check(["y ~ x + g", "--vcov", t], "lm(y ~ x + g, d)", f'vcovHC(m, type = "{t}")', t)
check(["y ~ x * g", "-w", "w", "--vcov", "HC2"], "lm(y ~ x * g, d, weights = w)",
      'vcovHC(m, type = "HC2")', "HC2")
# the model of the sharded two-pass recipe (solve -m MODEL MEAT... -o) too
check(["y ~ x + g", "--vcov", "HC1"], "lm(y ~ x + g, d)", 'vcovHC(m, type = "HC1")', "HC1",
      sharded=True)
check(["-y", "y", "-x", "x", "-w", "w", "--vcov", "HC3"], "lm(y ~ x, d, weights = w)",
      'vcovHC(m, type = "HC3")', "HC3", sharded=True)
check(["-y", "y", "-x", "x", "--vcov", "cluster", "--cluster", "cl"], "lm(y ~ x, d)",
      "vcovCL(m, cluster = ~ cl)", "cluster", sharded=True)
m = check(["-y", "y", "-x", "x", "--vcov", "cluster", "--cluster", "cl"], "lm(y ~ x, d)",
          "vcovCL(m, cluster = ~ cl)", "cluster")

# a classical model: no member, the classical intervals
plain = os.path.join(tmp, "p.json")
run("fit", "-y", "y", "-x", "x", train, "-o", plain)
if "robust" in json.load(open(plain)):
    fail("a classical model has a robust member")
a = run("predict", "-m", plain, "--interval", "confidence", new).stdout
b = run("predict", "-m", m, "--interval", "confidence", new).stdout if m else a
if a == b:
    fail("the cluster model's intervals are the classical ones")
cl = R(PRE + 'm <- lm(y ~ x, d); p <- predict(m, nd, interval = "confidence"); '
       'write.table(format(p, digits = 17), sep = ",", row.names = FALSE, col.names = FALSE, '
       'quote = FALSE)')
for i, (row, w) in enumerate(zip(read_csv(a, text=True)[1:], cl.strip().splitlines())):
    for j, v in enumerate(w.split(",")):
        rel_close(float(row[-3 + j]), float(v), 1e-10, f"classical row {i}")
# an edited covariance fails the checksum; a damaged member is refused
if m:
    t = open(m).read()
    doc = json.loads(t)
    e1 = os.path.join(tmp, "e1.json")
    doc["robust"]["vcov"][0][0] *= 2
    json.dump(doc, open(e1, "w"), indent=2)
    p = run("predict", "-m", e1, new)
    if p.returncode != 6 or "checksum" not in p.stderr:
        fail(f"an edited robust covariance: exit {p.returncode} {p.stderr}")


def sealed(change, name):
    """m's file with its robust member changed by `change`, its checksum
    recomputed: the member's own checks, not the checksum, must refuse it."""
    return resealed(m, lambda doc: change(doc["robust"]), os.path.join(tmp, name + ".json"))


if m:
    for name, change, why in (
            ("classical", lambda r: r.update(type="classical"), "no robust covariance type"),
            ("short", lambda r: r["vcov"].pop(), "not one row per coefficient"),
            ("hole", lambda r: r["vcov"][0].__setitem__(0, None), "a number where")):
        p = run("predict", "-m", sealed(change, name), new)
        if p.returncode != 6 or why not in p.stderr:
            fail(f"a damaged robust member ({name}): exit {p.returncode} {p.stderr}")
        else:
            print(f"damaged ({name}):", p.stderr.strip())
    # the sealed copy unchanged loads (the canonical text is the checksum's)
    p = run("predict", "-m", sealed(lambda r: None, "same"), "--interval", "confidence", new)
    if p.returncode or p.stdout != b:
        fail(f"an unchanged sealed copy: exit {p.returncode} {p.stderr}")
finish()
