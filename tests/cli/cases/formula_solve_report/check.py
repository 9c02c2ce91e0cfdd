import os
import subprocess
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# solve's text report of a formula's state is fit's: the same Formula,
# Factor and Transforms lines (csvreg_fit_set_state_spec) and the same
# numbers, for a state of factors (pre-select: solve chooses R's columns)
# and for one of transforms only (its state keeps the formula's frame too).
# The JSON of both also carries the same "formula" and "factors".
# (cmd: unused.)
CASES = [
    ("log(y)~x+I(x^2)+g+factor(k)", "report_factors.csv"),
    ('y ~ 0 + g + relevel(factor(k), ref = "5"):x + poly(x, 2, raw = TRUE)', "report_factors.csv"),
    ("log(y) ~ I(x^2) + sqrt(x) + log(k)", "report_factors.csv"),
]
for formula, data in CASES:
    for fmt in ("text", "json"):
        fit = run("fit", formula, data, "--format", fmt)
        state = run("fit", formula, data, "--emit-state")
        if fit.returncode or state.returncode:
            fail(f"{formula}: fit {fit.returncode} {fit.stderr} / --emit-state "
                 f"{state.returncode} {state.stderr}")
            continue
        solve = subprocess.run([CSVREG, "solve", "--format", fmt, "-"], input=state.stdout,
                               capture_output=True, text=True)
        if solve.returncode:
            fail(f"{formula}: solve {solve.returncode} {solve.stderr}")
        elif solve.stdout != fit.stdout:
            fail(f"{formula} ({fmt}): solve's report differs from fit's:\n--- fit\n{fit.stdout}"
                 f"--- solve\n{solve.stdout}")
        if fmt == "text" and "Formula: " not in solve.stdout:
            fail(f"{formula}: no Formula line in solve's report")
finish()
