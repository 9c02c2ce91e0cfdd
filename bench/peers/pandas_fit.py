"""Peer: pandas read_csv(chunksize) + numpy accumulation of X'X and X'y.

usage: pandas_fit.py FILE Y X1,X2,...
Prints the coefficients, intercept first, one "name value" line each.
Rows with a missing (NA or empty) used cell are dropped, as lm() does."""
import sys

import numpy as np
import pandas as pd


def main():
    path, target, features = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    k = len(features) + 1
    xtx = np.zeros((k, k))
    xty = np.zeros(k)
    for chunk in pd.read_csv(path, chunksize=100_000, usecols=features + [target]):
        a = np.empty((len(chunk), k))
        a[:, 0] = 1.0
        a[:, 1:] = chunk[features].to_numpy(dtype=np.float64)
        y = chunk[target].to_numpy(dtype=np.float64)
        ok = ~(np.isnan(a).any(axis=1) | np.isnan(y))
        if not ok.all():
            a, y = a[ok], y[ok]
        xtx += a.T @ a
        xty += a.T @ y
    beta = np.linalg.solve(xtx, xty)
    for name, b in zip(["(Intercept)"] + features, beta):
        print(f"{name} {b!r}")


if __name__ == "__main__":
    main()
