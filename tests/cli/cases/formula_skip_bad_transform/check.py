import json
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# --skip-bad with non-finite transforms: log(y - 3.1) is -Inf on line 2 and
# sqrt(x1 - 3) NaN on lines 2 and 3. Both rows are dropped, counted as bad
# (n_dropped, dropped.bad) and named in one warning each (the first blamed
# column), and the fit is R's lm on the rows kept (1e-9, R run here).
# (stdout: fit --help, unused.)
F = "log(y - 3.1) ~ sqrt(x1 - 3) + x2"
p = run("fit", F, "small.csv", "--skip-bad", "--format", "json")
want_err = ("csvreg: warning: small.csv:2: column y: log(y - 3.1) is -Inf where y = 3.1 (row skipped)\n"
            "csvreg: warning: small.csv:3: column x1: sqrt(x1 - 3) is NaN where x1 = 2 (row skipped)\n")
if p.returncode or p.stderr != want_err:
    fail(f"exit {p.returncode}, stderr {p.stderr!r}")
else:
    got = json.loads(p.stdout)
    if (got["n"], got["n_read"], got["n_dropped"], got["dropped"]["bad"]) != (6, 8, 2, 2):
        fail(f"counts: n {got['n']} read {got['n_read']} dropped {got['n_dropped']} "
             f"{got['dropped']}")
    want, (sigma, r2) = r_lm_coefs("small.csv", F, prep="d <- d[d$y > 3.1 & d$x1 >= 3, ]")
    check_lm_terms(got, want, sigma, r2, 1e-9, "--skip-bad")
# without --skip-bad: the first such row is the error (exit 3), nothing on stdout
p = run("fit", F, "small.csv")
if p.returncode != 3 or p.stdout or p.stderr != (
        "csvreg: small.csv:2: column 1 (y): log(y - 3.1) is -Inf where y = 3.1 "
        "(use --skip-bad to drop such rows)\n"):
    fail(f"without --skip-bad: exit {p.returncode} {p.stderr!r}")
finish()
