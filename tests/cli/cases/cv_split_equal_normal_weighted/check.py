import json
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The co-moment solver, weights and 7-row chunks: the fold scores still equal
# fit + eval on the split files.
rep = json.load(open(sys.argv[1]))
check_split(rep, ["-y", "y", "-x", "x1,x2,x3", "-w", "w", "--solver", "normal"],
            rep["cv"]["folds"], 2, k=3)
finish()
