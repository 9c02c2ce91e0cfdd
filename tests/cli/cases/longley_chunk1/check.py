import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

NIST, RESIDUAL_SD, R2 = LONGLEY_NIST, LONGLEY_RESIDUAL_SD, LONGLEY_R2
# R 4.x: summary(lm(Employed ~ ., longley)) F statistic, p-value, logLik, AIC, BIC.

text, doc = load_json(sys.argv[1])
check_terms(json_terms(doc), NIST, 1e-11, fields=("estimate", "std_error"))
# Chunks of 1 row and the default chunk agree up to rounding.
ref = json.loads(run_csvreg("fit", "-y", "Employed", "longley.csv", "--format", "json"))
for a, b in zip(doc["terms"], ref["terms"]):
    for k in FIELDS:
        close("%s.%s vs default chunk" % (a["name"], k), a[k], b[k], 1e-12)
close("rss vs default chunk", doc["rss"], ref["rss"], 1e-12)

finish()
