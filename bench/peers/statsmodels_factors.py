"""Peer for bench/factors.sh: pandas.read_csv + the statsmodels formula API on the same
model, y ~ x1 + ... + x8 + C(c10) + C(c100) (every text column through C()); prints the
coefficients named as R and csvreg name them (c10g01). usage: statsmodels_factors.py FILE"""
import re
import sys

import pandas as pd
import statsmodels.formula.api as smf

d = pd.read_csv(sys.argv[1])
terms = [c if d[c].dtype != object else f"C({c})" for c in d.columns if c != "y"]
fit = smf.ols("y ~ " + " + ".join(terms), d).fit()
for name, v in fit.params.items():
    name = "(Intercept)" if name == "Intercept" else re.sub(r"^C\((\w+)\)\[T\.(.*)\]$", r"\1\2", name)
    print(f"{name} {v:.17g}")
