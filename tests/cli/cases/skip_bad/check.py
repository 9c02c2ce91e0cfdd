import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

# R on the 6 good rows of skip.csv (lines 4 and 6 are bad)
REF = [
    ("(Intercept)", 0.91829268292682609, 0.18899134250840438),
    ("x1", 1.9329268292682928, 0.11335779675552392),
    ("x2", 0.14634146341463483, 0.22251246826328477),
]
text, doc = load_json(sys.argv[1])
check_terms(json_terms(doc), REF, 1e-10, fields=("estimate", "std_error"))
close("r_squared", doc["r_squared"], 0.99918415586478582, 1e-12)
for k, v in (("n", 6), ("n_read", 8), ("n_dropped", 2),
             ("dropped", {"missing": 0, "bad": 2, "zero_weight": 0})):
    if doc.get(k) != v:
        fail("%s: %r, expected %r" % (k, doc.get(k), v))

finish()
