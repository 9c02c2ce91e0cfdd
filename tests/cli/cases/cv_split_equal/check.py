import json
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# 5-fold CV in one pass equals splitting the file by the same hash and running
# fit + eval fold by fold (<= 1e-9 relative); the report is the fit on all rows.
rep = json.load(open(sys.argv[1]))
cv = rep["cv"]
if cv["k"] != 5 or cv["seed"] != 11 or len(cv["folds"]) != 5:
    fail(f"cv header {cv['k']} {cv['seed']}")
if sum(f["n"] for f in cv["folds"]) != rep["n"]:
    fail("fold sizes do not add up to n")
check_split(rep, ["-y", "y", "-x", "x1,x2,x3"], cv["folds"], 11, k=5)
mean = sum(f["rmse"] for f in cv["folds"]) / 5
rel_close(cv["mean_rmse"], mean, 1e-14, "mean_rmse")
finish()
