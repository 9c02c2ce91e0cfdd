import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The normal solver's co-moments give the same intervals; blocks of 7 rows.
rows = read_csv(sys.argv[1])
r = REF["r"]
for i, got in enumerate(rows[1:]):
    rel_close(float(got[0]), r["fit"][i], 1e-10, f"row {i + 1} fit")
    rel_close(float(got[1]), r["pred_lwr"][i], 1e-10, f"row {i + 1} lwr")
    rel_close(float(got[2]), r["pred_upr"][i], 1e-10, f"row {i + 1} upr")
finish()
