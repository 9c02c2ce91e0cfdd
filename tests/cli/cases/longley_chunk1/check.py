import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

# NIST StRD Longley certified values (coefficients, standard deviations).
NIST = [
    ("(Intercept)", -3482258.63459582, 890420.383607373),
    ("GNP.deflator", 15.0618722713733, 84.9149257747669),
    ("GNP", -0.358191792925910e-01, 0.334910077722432e-01),
    ("Unemployed", -2.02022980381683, 0.488399681651699),
    ("Armed.Forces", -1.03322686717359, 0.214274163161675),
    ("Population", -0.511041056535807e-01, 0.226073200069370),
    ("Year", 1829.15146461355, 455.478499142212),
]
RESIDUAL_SD = 304.854073561965
R2 = 0.995479004577296
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
