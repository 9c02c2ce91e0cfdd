import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

NIST, RESIDUAL_SD, R2 = LONGLEY_NIST, LONGLEY_RESIDUAL_SD, LONGLEY_R2
# R 4.x: summary(lm(Employed ~ ., longley)) F statistic, p-value, logLik, AIC, BIC.

check_terms(load_csv(sys.argv[1]), NIST, 1e-11, fields=("estimate", "std_error"))

finish()
