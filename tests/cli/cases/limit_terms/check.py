# limit_terms: the widest model (CSVREG_MAX_TERMS).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# CSVREG_MAX_TERMS = 4096 model terms: 4097 features are refused before any
# p x p state is allocated (exit 3, CSVREG_E_LIMIT), by default and with -x.
n = 4098
data = (",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["1"] * n) + "\n").encode()
expect("4097 features", run(["fit", "-y", "c0", "-"], data), 3,
       "csvreg: <stdin>:1: 4097 features: at most 4096 are supported\n")
expect("4097 features by name", run(["fit", "-y", "c0", "-x", ",".join(f"c{i}" for i in range(1, n)), "-"], data), 3,
       "csvreg: <stdin>:1: 4097 features: at most 4096 are supported\n")
finish()
