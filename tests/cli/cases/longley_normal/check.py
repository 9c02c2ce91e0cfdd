import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

NIST, RESIDUAL_SD, R2 = LONGLEY_NIST, LONGLEY_RESIDUAL_SD, LONGLEY_R2
# R 4.x: summary(lm(Employed ~ ., longley)) F statistic, p-value, logLik, AIC, BIC.

text, doc = load_json(sys.argv[1])
if doc["solver"] != "normal":
    fail("solver %r" % doc["solver"])
# Centred co-moments keep about 12 digits on Longley (NOTES.md).
check_terms(json_terms(doc), NIST, 1e-9, fields=("estimate", "std_error"))
close("residual_sd", doc["residual_sd"], RESIDUAL_SD, 1e-9)

finish()
