import json
import os
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# A model written by fit -o is version 2 and stores its spec: the input
# columns with their roles, and terms naming the inputs they read. Its
# inputs are found by name, so a column whose name holds the delimiter and
# columns in another order give the same predictions as the training layout.
# (stdout: the version-1 fixture's predictions on small.csv, for reference.)
with tempfile.TemporaryDirectory() as tmp:
    train = os.path.join(tmp, "train.csv")
    with open(train, "w") as f:
        f.write('y,"a,b",x2,w\n')
        for i in range(1, 13):
            f.write(f"{2 * i + 0.1 * (i % 3)},{i},{(i * 7) % 5},{1 + i % 2}\n")
    model = os.path.join(tmp, "m.json")
    p = run("fit", "-y", "y", "-w", "w", "-o", model, "--quiet", train)
    if p.returncode != 0:
        fail(f"fit: {p.returncode} {p.stderr}")
    m = json.load(open(model))
    if m["version"] != 2:
        fail(f"version {m['version']}")
    spec = m["spec"]
    want_inputs = [{"name": "a,b", "role": "feature"}, {"name": "x2", "role": "feature"},
                   {"name": "y", "role": "target"}, {"name": "w", "role": "weights"}]
    if spec["inputs"] != want_inputs:
        fail(f"inputs {spec['inputs']}")
    if spec["terms"] != [{"name": "a,b", "inputs": ["a,b"]}, {"name": "x2", "inputs": ["x2"]}]:
        fail(f"terms {spec['terms']}")
    if spec["target"] != "y" or spec["weights"] != "w" or spec["intercept"] is not True:
        fail(f"spec {spec}")
    if m["reader"] != {"delimiter": ",", "header": True, "na": None}:
        fail(f"reader {m['reader']}")
    # Columns shuffled, an extra one, no target: predict binds by name.
    rows = read_csv(train)
    shuffled = os.path.join(tmp, "new.csv")
    with open(shuffled, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow(["extra", r[2], r[1]] if r[0] == "y" else ["e", r[2], r[1]])
    a = run("predict", "-m", model, "--only", train)
    b = run("predict", "-m", model, "--only", shuffled)
    if a.returncode or b.returncode or a.stdout != b.stdout or len(a.stdout.splitlines()) != 13:
        fail(f"predict: {a.returncode} {b.returncode} {a.stderr} {b.stderr}")
    # eval needs the target and the weights: named when missing.
    e = run("eval", "-m", model, shuffled)
    if e.returncode != 3 or "no target column named 'y' in the header" not in e.stderr:
        fail(f"eval without target: {e.returncode} {e.stderr}")
    e = run("eval", "-m", model, "--format", "json", train)
    if e.returncode or json.loads(e.stdout)["n"] != 12:
        fail(f"eval: {e.returncode} {e.stderr}")
    # --update binds the new rows through the model's spec too: a column name
    # holding the delimiter, columns in another order (it used to re-join the
    # term names with commas, and refused "a,b"). The update equals one fit
    # on the old rows followed by the new.
    moved = os.path.join(tmp, "moved.csv")
    with open(moved, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([r[3], r[2], r[0], r[1]])
    both = os.path.join(tmp, "both.csv")
    with open(both, "w", newline="") as f:
        w = csv.writer(f)
        w.writerows(rows + rows[1:])
    u = run("fit", "--update", model, "--format", "json", moved)
    d = run("fit", "-y", "y", "-w", "w", "--format", "json", both)
    if u.returncode or d.returncode:
        fail(f"update: {u.returncode} {u.stderr} {d.stderr}")
    cu = {t["name"]: t["estimate"] for t in json.loads(u.stdout)["terms"]}
    cd = {t["name"]: t["estimate"] for t in json.loads(d.stdout)["terms"]}
    if cu.keys() != cd.keys() or any(abs(cu[k] - cd[k]) > 1e-11 * max(1, abs(cd[k])) for k in cd):
        fail(f"update {cu} != refit {cd}")
finish()
