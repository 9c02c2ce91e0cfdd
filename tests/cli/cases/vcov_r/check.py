import json
import os
import shutil
import subprocess
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The JSON report's vcov is R's vcov(lm): sigma^2 (X'WX)^-1, in the terms'
# order, for plain, weighted, no-intercept and aliased fits (NA in R, null
# here); 1e-10 relative. (cmd: a plain fit, for reference.)
DATA = os.path.abspath("longley.csv")
if not shutil.which("Rscript"):
    fail("Rscript not found: this case compares with R's vcov (Debian r-base-core)")
    finish()
CASES = [
    (["-y", "Employed"], "Employed ~ .", ""),
    (["-y", "Employed", "-x", "GNP,Year", "-w", "Population"], "Employed ~ GNP + Year",
     ", weights = Population"),
    (["-y", "Employed", "-x", "GNP,Year", "--no-intercept"], "Employed ~ GNP + Year - 1", ""),
    (["Employed ~ GNP + I(2 * GNP) + Year"], "Employed ~ GNP + I(2 * GNP) + Year", ""),
]
for args, formula, extra in CASES:
    p = run("fit", *args, DATA, "--format", "json")
    if p.returncode:
        fail(f"{args}: exit {p.returncode} {p.stderr}")
        continue
    got = json.loads(p.stdout)["vcov"]
    code = (f'd <- read.csv("{DATA}"); m <- lm({formula}, data = d{extra}); '
            'v <- vcov(m); write.table(format(v, digits = 17), sep = ",", '
            'row.names = FALSE, col.names = FALSE, quote = FALSE)')
    r = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True)
    if r.returncode:
        fail(f"R: {r.stderr}")
        continue
    want = [[None if v.strip() == "NA" else float(v) for v in line.split(",")]
            for line in r.stdout.strip().splitlines()]
    if len(want) != len(got) or any(len(a) != len(b) for a, b in zip(want, got)):
        fail(f"{args}: vcov shape {len(got)} x {len(got[0]) if got else 0}, R's {len(want)}")
        continue
    for i, (rw, rg) in enumerate(zip(want, got)):
        for j, (w, g) in enumerate(zip(rw, rg)):
            if w is None or g is None:
                if w is not g:
                    fail(f"{args}: vcov[{i}][{j}] {g}, R {w}")
            else:
                rel_close(g, w, 1e-10, f"{args} vcov[{i}][{j}]")
finish()
