#!/usr/bin/python3
"""Regenerates data/model_ref.json: reference values for the predict/eval/holdout
CLI cases, from R's predict.lm(interval=) and sklearn.metrics. Run from tests/cli
when the test data change; CI only reads the committed JSON (no R, no sklearn).
"""
import json
import subprocess

import numpy as np
import pandas as pd
from sklearn import metrics

R = r'''
d <- read.csv("data/model_gen.csv"); n <- read.csv("data/model_new.csv")
out <- list()
f <- lm(y ~ x1 + x2 + x3, d); fw <- lm(y ~ x1 + x2 + x3, d, weights = w)
out$fit <- unname(predict(f, n))
out$fit_w <- unname(predict(fw, n))
p <- predict(f, n, interval = "prediction"); out$pred_lwr <- unname(p[, 2]); out$pred_upr <- unname(p[, 3])
c9 <- predict(f, n, interval = "confidence", level = 0.9); out$conf90_lwr <- unname(c9[, 2]); out$conf90_upr <- unname(c9[, 3])
pw <- suppressWarnings(predict(fw, n, interval = "prediction")); out$predw_lwr <- unname(pw[, 2]); out$predw_upr <- unname(pw[, 3])
cat(jsonlite::toJSON(out, digits = NA))
'''

def r_values():
    try:
        txt = subprocess.run(["Rscript", "-e", R], check=True, capture_output=True, text=True).stdout
        return json.loads(txt)
    except Exception:
        # No jsonlite: print with 17 digits instead.
        R2 = R.replace("cat(jsonlite::toJSON(out, digits = NA))",
                       "for (k in names(out)) cat(k, sprintf('%.17g', out[[k]]), '\\n')")
        txt = subprocess.run(["Rscript", "-e", R2], check=True, capture_output=True, text=True).stdout
        res = {}
        for line in txt.strip().splitlines():
            parts = line.split()
            res[parts[0]] = [float(v) for v in parts[1:]]
        return res


def sk_metrics(y, p, w):
    nz = y != 0
    e = y - p
    return {
        "n": int(len(y)),
        "mse": metrics.mean_squared_error(y, p, sample_weight=w),
        "rmse": float(np.sqrt(metrics.mean_squared_error(y, p, sample_weight=w))),
        "mae": metrics.mean_absolute_error(y, p, sample_weight=w),
        "mape": metrics.mean_absolute_percentage_error(y[nz], p[nz],
                                                        sample_weight=None if w is None else w[nz]),
        "max_error": metrics.max_error(y, p),
        "mean_error": float(np.average(e, weights=w)),
        "r_squared": metrics.r2_score(y, p, sample_weight=w),
        "explained_variance": metrics.explained_variance_score(y, p, sample_weight=w),
        "n_zero_y": int((~nz).sum()),
    }


def main():
    r = r_values()
    new = pd.read_csv("data/model_new.csv")
    ok = new[["x1", "x2", "x3", "y"]].notna().all(axis=1).to_numpy()
    y = new["y"].to_numpy()[ok]
    ref = {"r": r,
           "eval": sk_metrics(y, np.asarray(r["fit"])[ok], None),
           "eval_w": sk_metrics(y, np.asarray(r["fit_w"])[ok], new["w"].to_numpy()[ok])}
    with open("data/model_ref.json", "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")


main()
