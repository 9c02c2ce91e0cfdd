import json
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit 'FORMULA' FILE: numeric R formulas on the command line equal R's lm
# (names, order, estimates, standard errors, sigma, R^2) run here; a formula
# error points at its position (exit 2); a formula with -y is a usage error;
# -o writes a version 3 model that keeps the formula (formula_model tests it).
# (stdout: the command's plain predict, for reference.)
DATA = os.path.abspath(os.path.join("..", "..", "..", "data", "longley.csv"))
FORMULAS = [
    "Employed ~ log(GNP) + I(Population^2) + Year:Armed.Forces",
    "log(Employed) ~ (GNP + Unemployed + Armed.Forces)^2",
    "Employed ~ poly(Year, 3, raw = TRUE) + sqrt(Unemployed) - 1",
    "Employed ~ . - GNP.deflator",
    "Employed ~ GNP*Year + exp(Armed.Forces / 1000)",
]
rscript = shutil.which("Rscript")
if not rscript:
    fail("Rscript not found: this case compares with R's lm (Debian r-base-core)")
    finish()
for f in FORMULAS:
    p = run("fit", f, DATA, "--format", "json")
    if p.returncode:
        fail(f"{f}: exit {p.returncode} {p.stderr}")
        continue
    got = json.loads(p.stdout)
    r = subprocess.run([rscript, "-e", f"""
d <- read.csv("{DATA}")
m <- lm({f}, d); s <- summary(m); cf <- coef(s)
cat(sprintf("%s\\t%.17g\\t%.17g\\n", rownames(cf), cf[, 1], cf[, 2]), sep = "")
cat(sprintf("sigma\\t%.17g\\t%.17g\\n", s$sigma, s$r.squared))
"""], capture_output=True, text=True)
    if r.returncode:
        fail(f"R: {r.stderr}")
        continue
    rows = [line.split("\t") for line in r.stdout.strip().splitlines()]
    want = [(n, float(e), float(se)) for n, e, se in rows if n != "sigma"]
    sigma, r2 = [(float(a), float(b)) for n, a, b in rows if n == "sigma"][0]
    terms = got["terms"]
    if [t["name"] for t in terms] != [n for n, _, _ in want]:
        fail(f"{f}: terms {[t['name'] for t in terms]} != R's {[n for n, _, _ in want]}")
        continue
    for t, (n, e, se) in zip(terms, want):
        rel_close(t["estimate"], e, 1e-9, f"{f}: {n} estimate")
        rel_close(t["std_error"], se, 1e-9, f"{f}: {n} std_error")
    rel_close(got["residual_sd"], sigma, 1e-9, f"{f}: sigma")
    rel_close(got["r_squared"], r2, 1e-9, f"{f}: r_squared")

p = run("fit", "Employed ~ lg(GNP)", DATA)
if p.returncode != 2 or "unknown function 'lg'" not in p.stderr or \
        "  Employed ~ lg(GNP)\n             ^" not in p.stderr:
    fail(f"caret: {p.returncode} {p.stderr!r}")
p = run("fit", "-f", "Employed ~ GNP", "-y", "Employed", DATA)
if p.returncode != 2 or "not with -y or -x" not in p.stderr:
    fail(f"formula with -y: {p.returncode} {p.stderr}")
p = run("fit", "--formula", "Employed ~ GNP + Year", DATA, "--format", "json")
q = run("fit", "-y", "Employed", "-x", "GNP,Year", DATA, "--format", "json")
if p.returncode or p.stdout != q.stdout:
    fail(f"a formula of plain columns differs from -y/-x: {p.stderr}")
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "m.json")
    p = run("fit", "Employed ~ log(GNP)", DATA, "-o", out)
    if p.returncode != 0 or json.load(open(out))["spec"].get("formula") != "Employed ~ log(GNP)":
        fail(f"-o with a transform: {p.returncode} {p.stderr}")
finish()
