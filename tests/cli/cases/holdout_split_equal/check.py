import json
import sys
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# --holdout: the report is the fit on the training rows, and the held-out
# scores equal fit on the training file + eval on the held-out file.
rep = json.load(open(sys.argv[1]))
h = rep["holdout"]
if h["fraction"] != 0.25 or h["seed"] != 5:
    fail("holdout header")
check_split(rep, ["-y", "y", "-x", "x1,x2,x3", "-w", "w"], h, 5, fraction=0.25)
finish()
