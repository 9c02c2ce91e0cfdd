import json
import os
import random
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Exact collinearity in the cross-product must be aliased by --solver normal
# as by the qr solver and R's lm. The cells of g:h as plain 0/1 columns (one
# cell never occurs: a column of zeros) sum to the intercept. The normal
# kernel's test was dd <= 1e-14 a_jj; a column that is the sum of k others
# comes out at rounding level times k^2 a_jj, so on this file the last
# non-empty cell (bzz) passed with dd = 1.1e-14 a_jj: condition 4.8e7,
# standard errors 1.7e6, exit 0. Here: that file, and 36 cells over 3000
# rows, at chunk sizes 1, 7 and the default, equal to R's lm (names, NA
# terms, estimates, standard errors, sigma, R^2 to 1e-9). And a genuinely
# full-rank near-collinear column (x + 1e-5 noise) is not aliased: it is
# fitted and agrees with R to what squaring the condition number leaves.
# (stdout: fit --help, unused.)
require_r()
tmp = tempfile.mkdtemp()


def write(path, rows, g_levels, h_levels, empty, seed, near=False, parity=False):
    """The cells of g:h as 0/1 columns in R's order (g varies fastest). With
    parity, the rows of formula_r_parity_cells' file (same draws)."""
    rng = random.Random(seed)
    cells = [g + h for h in h_levels for g in g_levels]
    with open(path, "w") as f:
        f.write("y,x," + ",".join(cells) + (",x2" if near else "") + "\n")
        for _ in range(rows):
            g, h = rng.choice(g_levels), rng.choice(h_levels)
            if g + h == empty:
                h = h_levels[1]
            x = rng.uniform(-2, 4)
            if parity:
                y = 1 + (g == "b") - 0.5 * (g == "c") + 2 * (h == "x") + 0.7 * x + \
                    0.4 * (g == "b") * (h == "zz") + rng.gauss(0, 1)
                rng.random()  # that file's z
            else:
                y = 1 + g_levels.index(g) * 0.4 - 0.3 * h_levels.index(h) + 0.7 * x \
                    + rng.gauss(0, 1)
            ind = ",".join("1" if c == g + h else "0" for c in cells)
            extra = f",{x + 1e-5 * rng.gauss(0, 1)!r}" if near else ""
            f.write(f"{y!r},{x!r},{ind}{extra}\n")
    return cells


def check(path, cols, opts, tol, want_aliased):
    what = f"{os.path.basename(path)} {' '.join(opts)}"
    want, (sigma, r2) = r_lm_coefs(path, "y ~ " + " + ".join(cols))
    p = run("fit", "-y", "y", "-x", ",".join(cols), path, "--solver", *opts, "--format", "json")
    if p.returncode:
        fail(f"{what}: exit {p.returncode} {p.stderr}")
        return
    aliased = [n for n, e, _ in want if e is None]
    if aliased != want_aliased:
        fail(f"{what}: R aliases {aliased}, the case expects {want_aliased}")
    check_lm_terms(json.loads(p.stdout), want, sigma, r2, tol, what)

nine = os.path.join(tmp, "nine.csv")
# the formula_r_parity_cells file's design: 3 x 3 cells, (c, zz) empty
cells = write(nine, 300, ["a", "b", "c"], ["x", "y", "zz"], "czz", 20261205, parity=True)
wide = os.path.join(tmp, "wide.csv")
cells36 = write(wide, 3000, list("abcdef"), list("pqrstu"), "fu", 7)
near = os.path.join(tmp, "near.csv")
write(near, 500, ["a", "b"], ["x", "y"], "", 3, near=True)
for solver in ("normal", "qr"):
    for chunk in ((), ("--chunk-rows", "1"), ("--chunk-rows", "7")):
        opts = (solver, *chunk)
        # x first, as R orders y ~ x + cells; the last non-empty cell is the sum
        check(nine, ["x", *cells], opts, 1e-9, ["bzz", "czz"])
        check(wide, ["x", *cells36], opts, 1e-9, ["eu", "fu"])
    # full rank: x2 = x + 1e-5 noise is no dependence (R keeps it)
    check(near, ["x", "ax", "ay", "bx", "x2"], (solver,), 1e-4 if solver == "normal" else 1e-9,
          [])
shutil.rmtree(tmp)
finish()
