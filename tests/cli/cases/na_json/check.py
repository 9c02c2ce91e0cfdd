import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

# R: lm(y ~ ., read.csv("na.csv")) drops 3 rows
REF = [
    ("(Intercept)", 1.2770998640660056, 0.56150563842423529, 2.2744203738540487, 0.1074861873657406, -0.50986168033317192, 3.0640614084651832),
    ("x1", 1.8564663484335981, 0.34492770097418213, 5.3821897840920432, 0.012562973002919853, 0.7587524608783085, 2.954180235988888),
    ("x2", 0.14292036797015736, 0.61780090891787254, 0.23133725753251766, 0.83193328346614592, -1.8231978520164425, 2.109038587956757),
]
text, doc = load_json(sys.argv[1])
check_terms(json_terms(doc), REF, 1e-10)
close("residual_sd", doc["residual_sd"], 0.53457097780085217, 1e-10)
close("f_statistic", doc["f_statistic"], 230.32418409361338, 1e-9)
close("log_likelihood", doc["log_likelihood"], -2.6764450709016807, 1e-10)
for k, v in (("n", 6), ("n_read", 9), ("n_dropped", 3), ("df_residual", 3),
             ("dropped", {"missing": 3, "bad": 0, "zero_weight": 0}),
             ("missing_by_column", {"x1": 1, "x2": 2, "y": 1})):
    if doc.get(k) != v:
        fail("%s: %r, expected %r" % (k, doc.get(k), v))

finish()
