import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Every input row comes back, re-quoted, with prediction, lower and upper
# matching R's predict.lm(interval = "prediction") to 1e-10.
rows = read_csv(sys.argv[1])
src = read_csv("model_new.csv")
if rows[0] != src[0] + ["prediction", "lower", "upper"]:
    fail(f"header {rows[0]}")
if len(rows) != len(src):
    fail(f"{len(rows)} rows, want {len(src)}")
r = REF["r"]
for i, (got, orig) in enumerate(zip(rows[1:], src[1:])):
    if got[:len(orig)] != orig:
        fail(f"row {i + 1}: fields changed: {got[:len(orig)]} vs {orig}")
    rel_close(float(got[-3]), r["fit"][i], 1e-10, f"row {i + 1} fit")
    rel_close(float(got[-2]), r["pred_lwr"][i], 1e-10, f"row {i + 1} lwr")
    rel_close(float(got[-1]), r["pred_upr"][i], 1e-10, f"row {i + 1} upr")
finish()
