import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# A weighted model: R's predict.lm assumes weight 1 for new observations.
rows = read_csv(sys.argv[1])
r = REF["r"]
for i, got in enumerate(rows[1:]):
    rel_close(float(got[0]), r["fit_w"][i], 1e-10, f"row {i + 1} fit")
    rel_close(float(got[1]), r["predw_lwr"][i], 1e-10, f"row {i + 1} lwr")
    rel_close(float(got[2]), r["predw_upr"][i], 1e-10, f"row {i + 1} upr")
finish()
