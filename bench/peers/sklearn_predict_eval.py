"""Peer of `csvreg predict` and `csvreg eval`: pandas read_csv(chunksize) + sklearn, with the
coefficients of a model saved by `csvreg fit -o MODEL` (so both sides predict with the same
numbers and only the reading, predicting and writing are compared).

usage: sklearn_predict_eval.py MODE MODEL FILE   (FILE - is standard input)
  predict       every column of FILE plus a `prediction` column, as CSV on stdout
                (as `csvreg predict`)
  predict-only  the `prediction` column alone (as `csvreg predict --only`)
  eval          one line of JSON: n, rmse, mae (as `csvreg eval --format json`)"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.linear_model import LinearRegression

CHUNK = 100_000


def load(path):
    fit = json.load(open(path))["fit"]
    terms = fit["terms"]
    lr = LinearRegression()
    if fit["intercept"]:
        lr.intercept_, terms = terms[0]["estimate"], terms[1:]
    else:
        lr.intercept_ = 0.0
    lr.coef_ = np.array([t["estimate"] for t in terms])
    lr.n_features_in_ = len(terms)
    return lr, [t["name"] for t in terms], fit["target"]


def main():
    mode, model, path = sys.argv[1:4]
    lr, feats, target = load(model)
    src = sys.stdin if path == "-" else path
    # Read only the columns the mode needs, as a fair peer would.
    usecols = None if mode == "predict" else feats + ([target] if mode == "eval" else [])
    out = sys.stdout
    n, sse, sae = 0, 0.0, 0.0
    for ch in pd.read_csv(src, chunksize=CHUNK, usecols=usecols):
        p = lr.predict(ch[feats].to_numpy())
        if mode == "predict":
            ch.assign(prediction=p).to_csv(out, header=n == 0, index=False)
        elif mode == "predict-only":
            pd.DataFrame({"prediction": p}).to_csv(out, header=n == 0, index=False)
        else:
            y = ch[target].to_numpy()
            sse += metrics.mean_squared_error(y, p) * len(y)
            sae += metrics.mean_absolute_error(y, p) * len(y)
        n += len(ch)
    if mode == "eval":
        print(json.dumps({"n": n, "rmse": (sse / n) ** 0.5, "mae": sae / n}))


if __name__ == "__main__":
    main()
