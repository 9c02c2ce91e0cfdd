import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

NIST, RESIDUAL_SD, R2 = LONGLEY_NIST, LONGLEY_RESIDUAL_SD, LONGLEY_R2

text, doc = load_json(sys.argv[1])
terms = json_terms(doc)
check_terms(terms, NIST, 1e-11, fields=("estimate", "std_error"))
close("residual_sd", doc["residual_sd"], RESIDUAL_SD, 1e-11)
close("r_squared", doc["r_squared"], R2, 1e-12)
# R 4.x, lm(Employed ~ ., read.csv("longley.csv")): F, its p-value, logLik, AIC, BIC.
close("f_statistic", doc["f_statistic"], 330.28533923459133, 1e-9)
close("f_p_value", doc["f_p_value"], 4.9840305287245819e-10, 1e-8)
close("log_likelihood", doc["log_likelihood"], -109.6174348084805, 1e-10)
close("aic", doc["aic"], 235.23486961696099, 1e-10)
close("bic", doc["bic"], 241.41557939487925, 1e-10)
for k, v in (("n", 16), ("n_read", 16), ("n_dropped", 0), ("rank", 7), ("df_residual", 9),
             ("target", "Employed"), ("intercept", True), ("weighted", False), ("solver", "qr"),
             ("level", 0.95), ("f_df1", 6), ("f_df2", 9)):
    if doc.get(k) != v:
        fail("%s: %r, expected %r" % (k, doc.get(k), v))
if doc["dropped"] != {"missing": 0, "bad": 0, "zero_weight": 0}:
    fail("dropped: %r" % doc["dropped"])
expected_keys = ["n", "n_dropped", "dropped", "missing_by_column", "n_read", "df_residual",
                 "rank", "target", "intercept", "weighted", "terms", "vcov", "residual_sd", "rss", "tss",
                 "r_squared", "adj_r_squared", "f_statistic", "f_df1", "f_df2", "f_p_value",
                 "log_likelihood", "aic", "bic", "condition_number", "digits", "level", "tol",
                 "solver", "version"]
if list(doc) != expected_keys:
    fail("keys %r" % list(doc))
if not doc["digits"] >= 8:
    fail("digits %r" % doc["digits"])
# Round trip: every real is written at %.17g, and the CSV output of the same
# fit (also %.17g) holds bit-identical coefficients.
if check_real_tokens(text) < 50:
    fail("too few reals found in the JSON text")
import csv as _csv, io  # noqa: E402
rows = list(_csv.reader(io.StringIO(run_csvreg("fit", "-y", "Employed", "longley.csv",
                                               "--format", "csv"))))
for r in rows[1:]:
    for k, v in zip(FIELDS, r[1:7]):
        if bits(float(v)) != bits(terms[r[0]][k]):
            fail("%s.%s: CSV %s and JSON %r differ" % (r[0], k, v, terms[r[0]][k]))

finish()
