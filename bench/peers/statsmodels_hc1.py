"""Peer for bench/robust.sh: pandas.read_csv + statsmodels OLS with cov_type='HC1' on
y ~ every other column (with an intercept); prints each coefficient and its HC1 standard
error as "name estimate se", named as csvreg names them. usage: statsmodels_hc1.py FILE"""
import sys

import pandas as pd
import statsmodels.api as sm

d = pd.read_csv(sys.argv[1])
y = d.pop("y")
fit = sm.OLS(y, sm.add_constant(d)).fit(cov_type="HC1")
for name in fit.params.index:
    label = "(Intercept)" if name == "const" else name
    print(f"{label} {fit.params[name]:.17g} {fit.bse[name]:.17g}")
