"""eval --every: each window's metrics against a Python recomputation from
predict's predictions (math.fsum, 1e-12 relative); the same windows with
--threads 2, --chunk-rows 1 and in JSON; the text table; a window of no
scored rows; windows past the rows."""
import json
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

EVERY = 7


def windows_csv(text):
    rows = read_csv(text, text=True)
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


def recompute(path, model, every):
    pred = read_csv(run("predict", "-m", model, path).stdout, text=True)
    head = pred[0]
    yi, pi = head.index("y"), head.index("prediction")
    wins = {}
    for i, r in enumerate(pred[1:]):
        k = i // every
        w = wins.setdefault(k, [])
        try:
            y, p = float(r[yi]), float(r[pi])
        except ValueError:
            continue
        w.append((y, p))
    out = []
    for k in range(max(wins) + 1):
        rows = wins.get(k, [])
        n = len(rows)
        m = {"window": k + 1, "first_record": 2 + k * every, "n": n}
        if n:
            e = [y - p for y, p in rows]
            ybar = math.fsum(y for y, _ in rows) / n
            ebar = math.fsum(e) / n
            syy = math.fsum((y - ybar) ** 2 for y, _ in rows)
            m["mse"] = math.fsum(x * x for x in e) / n
            m["rmse"] = math.sqrt(m["mse"])
            m["mae"] = math.fsum(abs(x) for x in e) / n
            m["max_error"] = max(abs(x) for x in e)
            m["mean_error"] = ebar
            nz = [(y, p) for y, p in rows if y != 0]
            m["mape"] = math.fsum(abs(y - p) / abs(y) for y, p in nz) / len(nz) if nz else None
            m["r_squared"] = 1 - math.fsum(x * x for x in e) / syy if syy > 0 else None
            m["explained_variance"] = (
                1 - math.fsum((x - ebar) ** 2 for x in e) / syy if syy > 0 else None
            )
        out.append(m)
    return out


def num(s):
    return None if s == "NA" else float(s)


got = windows_csv(open(sys.argv[1]).read())
want = recompute("model_new.csv", "model_gen.json", EVERY)
if len(got) != len(want):
    fail(f"{len(got)} windows, want {len(want)}")
for g, w in zip(got, want):
    k = w["window"]
    for key in ("window", "first_record", "n"):
        if int(g[key]) != w[key]:
            fail(f"window {k}: {key} {g[key]}, want {w[key]}")
    if int(g["last_record"]) != min(w["first_record"] + EVERY - 1, 61):
        fail(f"window {k}: last_record {g['last_record']}")
    for key in ("mse", "rmse", "mae", "max_error", "mean_error", "mape", "r_squared",
                "explained_variance"):
        if key in w:
            rel_close(num(g[key]), w[key], 1e-12, f"window {k} {key}")

# the same windows on other paths, and in JSON
base = open(sys.argv[1]).read()
for extra in (["--threads", "2"], ["--chunk-rows", "1"], ["--chunk-rows", "3", "--threads", "2"]):
    r = run("eval", "-m", "model_gen.json", "model_new.csv", "--every", str(EVERY), "--format",
            "csv", *extra)
    other = windows_csv(r.stdout)
    if r.returncode != 0 or len(other) != len(got):
        fail(f"{extra}: exit {r.returncode}, {len(other)} windows")
        continue
    for a, b in zip(got, other):
        for key in a:
            if a[key] == "NA" or b[key] == "NA":
                if a[key] != b[key]:
                    fail(f"{extra}: window {a['window']} {key}: {b[key]} vs {a[key]}")
            else:
                rel_close(float(b[key]), float(a[key]), 1e-12, f"{extra} window {a['window']} {key}")
r = run("eval", "-m", "model_gen.json", "model_new.csv", "--every", str(EVERY), "--format", "json")
j = json.loads(r.stdout)
if len(j["windows"]) != len(got) or j["n"] != 60:
    fail("json: windows or n")
for a, b in zip(got, j["windows"]):
    for key in a:
        v = b[key]
        if (v is None) != (a[key] == "NA") or (v is not None and float(a[key]) != float(v)):
            fail(f"json window {a['window']} {key}: {v} vs csv {a[key]}")
# the total in JSON is eval's without --every
plain = json.loads(run("eval", "-m", "model_gen.json", "model_new.csv", "--format", "json").stdout)
del j["windows"]
if j != plain:
    fail("json with --every: the total differs from eval's")
# the text report ends with the table
r = run("eval", "-m", "model_gen.json", "model_new.csv", "--every", "25")
if "Windows (3):" not in r.stdout:
    fail("text: no table: " + r.stdout)
lines = r.stdout.rstrip().split("\n")
if not lines[-1].split()[:4] == ["3", "52", "61", "10"]:
    fail("text: last window line " + lines[-1])
# a window with no scored row (all NA), and one window past the rows
tmp = tempfile.mkdtemp()
na_csv = os.path.join(tmp, "na.csv")
with open(na_csv, "w") as f:
    f.write("x1,x2,x3,y\n1,2,3,4\n2,1,0,3\nNA,1,1,1\nNA,2,2,2\n3,3,1,5\n")
r = run("eval", "-m", "model_gen.json", na_csv, "--every", "2", "--format",
        "csv")
rows = windows_csv(r.stdout)
if r.returncode != 0 or [x["n"] for x in rows] != ["2", "0", "1"] or rows[1]["rmse"] != "NA":
    fail(f"NA window: exit {r.returncode}: {r.stdout} {r.stderr}")
if [(x["first_record"], x["last_record"]) for x in rows] != [("2", "3"), ("4", "5"), ("6", "6")]:
    fail(f"NA window records: {rows}")
# usage errors
for bad in ("0", "-1", "x", ""):
    r = run("eval", "-m", "model_gen.json", "model_new.csv", "--every", bad)
    if r.returncode != 2:
        fail(f"--every '{bad}': exit {r.returncode}")
shutil.rmtree(tmp)
finish()
