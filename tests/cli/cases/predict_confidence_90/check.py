import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# --only: the prediction columns alone; confidence intervals at 90% as R.
rows = read_csv(sys.argv[1])
if rows[0] != ["prediction", "lower", "upper"]:
    fail(f"header {rows[0]}")
r = REF["r"]
for i, got in enumerate(rows[1:]):
    rel_close(float(got[0]), r["fit"][i], 1e-10, f"row {i + 1} fit")
    rel_close(float(got[1]), r["conf90_lwr"][i], 1e-10, f"row {i + 1} lwr")
    rel_close(float(got[2]), r["conf90_upr"][i], 1e-10, f"row {i + 1} upr")
if len(rows) != 61:
    fail(f"{len(rows)} rows")
finish()
