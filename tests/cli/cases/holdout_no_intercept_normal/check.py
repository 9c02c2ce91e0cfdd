import json
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Without an intercept the co-moment state still knows the held-out mean of y,
# so R^2 is about the held-out set's own mean, as eval computes it.
rep = json.load(open(sys.argv[1]))
check_split(rep, ["-y", "y", "-x", "x1,x2,x3", "--no-intercept", "--solver", "normal"],
            rep["holdout"], 0, fraction=0.3)
finish()
