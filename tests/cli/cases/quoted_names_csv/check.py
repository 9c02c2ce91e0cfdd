import sys
sys.path.insert(0, "..")
from fitcheck import *  # noqa: E402,F401,F403

# R: lm(`y value` ~ ., read.csv("quoted.csv", check.names = FALSE))
REF = [
    ("(Intercept)", 1.1533333333333338, 0.011547005383791355, 99.881596569815329, 0.00010022215937104359, 1.1036505790983322, 1.2030160875683353),
    ("x, one", 2.1277777777777778, 0.0055555555555550007, 383.00000000003826, 6.8170740437275652e-06, 2.1038741515013943, 2.1516814040541612),
    ("x2", -0.34444444444444472, 0.01111111111111, -31.000000000003126, 0.0010389613194807421, -0.39225169699721174, -0.2966371918916777),
]
# Near-exact fit: residuals are ~1e-2 of y, so allow more.
check_terms(load_csv(sys.argv[1]), REF, 1e-8)
with open(sys.argv[1]) as f:
    if '"x, one",' not in f.read():
        fail("the name with a comma is not quoted")

finish()
