"""fit --refine -o (issue 13): the model keeps the refined coefficients and
RSS ("refined", with the steps taken), so predict uses them. On a design
with columns collinear to 1e-9 the one-pass and refined coefficients differ
in their 7th digit; at new rows away from the collinearity the predictions
show it. Checked: the model's "refined" coefficients are the refined
report's, bit for bit; predict from the model equals b'x computed here in
exact arithmetic from those coefficients (1e-13 relative) and not the
one-pass model's; the model's report is the refined one; a model of
--refine --vcov HC1 keeps both, and the sharded second pass with a refined
model (-m) gives the same model as one process (intervals 1e-10, on a
better-conditioned design); a failed run leaves
the old file and no temporary one; an edited or damaged member is refused.
(cmd: fit --help, unused.)"""
import json
import os
import random
import subprocess
import sys
import tempfile
from fractions import Fraction

sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
new = os.path.join(tmp, "new.csv")
rng = random.Random(2013)
with open(data, "w") as f:
    f.write("y,x1,x2,x3\n")
    for i in range(400):
        a, c = rng.gauss(0, 1), rng.gauss(0, 1)
        b = a + 1e-9 * rng.gauss(0, 1)
        f.write(f"{1 + a + 2 * b - c + 0.1 * rng.gauss(0, 1)!r},{a!r},{b!r},{c!r}\n")
# new rows off the collinearity: x1 and x2 apart
with open(new, "w") as f:
    f.write("x1,x2,x3\n")
    for i in range(20):
        f.write(f"{rng.uniform(-1, 1)!r},{rng.uniform(2, 3)!r},{rng.gauss(0, 1)!r}\n")
ARGS = ["-y", "y", "-x", "x1,x2,x3"]


def path(name):
    return os.path.join(tmp, name)


def fit(*args):
    p = run("fit", *ARGS, *args, data, "--format", "json", "--quiet")
    if p.returncode:
        fail(f"fit {args}: exit {p.returncode} {p.stderr}")
        finish()
    return json.loads(p.stdout)


def predictions(model, *extra):
    p = run("predict", "-m", model, *extra, new)
    if p.returncode:
        fail(f"predict -m {model}: exit {p.returncode} {p.stderr}")
        return []
    return [[float(v) for v in row[-3 if extra else -1:]]
            for row in read_csv(p.stdout, text=True)[1:]]


plain = fit("-o", path("plain.json"))
refined = fit("--refine", "-o", path("refined.json"))
coef = [t["estimate"] for t in refined["terms"]]
m = json.load(open(path("refined.json")))
r = m.get("refined")
if not r or r.get("steps", 0) < 1 or r.get("passes", 0) < 1 or r.get("stop") not in (
        "converged", "steps", "stalled", "diverged"):
    fail(f"the model of fit --refine -o: refined member {r}")
    finish()
print("refined member:", {k: v for k, v in r.items() if k != "coefficients"})
if r["coefficients"] != coef or r["rss"] != refined["rss"]:
    fail(f"refined coefficients/rss {r['coefficients']} {r['rss']} are not the report's "
         f"{coef} {refined['rss']}")
if m["fit"].get("refine", {}).get("steps") != r["steps"] or \
        [t["estimate"] for t in m["fit"]["terms"]] != coef:
    fail("the model's report is not the refined fit's")
if "refined" in json.load(open(path("plain.json"))):
    fail("a model without --refine has a refined member")
one = [t["estimate"] for t in plain["terms"]]
worst = max(abs(a - b) / abs(b) for a, b in zip(one, coef))
print(f"one-pass vs refined coefficients: {worst:.3g} relative")
if worst < 1e-9:
    fail("the data do not tell the one-pass fit from the refined one")

# predict from the refined model: b'x of the refined coefficients
rows = read_csv(new)[1:]
want = [sum(Fraction(b) * Fraction(x) for b, x in zip(coef, [1.0] + [float(v) for v in row]))
        for row in rows]
got, got_plain = predictions(path("refined.json")), predictions(path("plain.json"))
far = 0.0
for i, (g, gp, w) in enumerate(zip(got, got_plain, want)):
    rel_close(g[0], float(w), 1e-13, f"refined model, row {i}")
    far = max(far, abs(gp[0] - float(w)) / abs(float(w)))
print(f"one-pass model's predictions off the refined b'x by up to {far:.3g}")
if len(got) != len(want) or far < 1e-9:
    fail(f"predict from the refined model: {len(got)} rows; the one-pass model's are off by "
         f"{far:.3g} only")
# its intervals use the refined residual standard deviation
iv = predictions(path("refined.json"), "--interval", "prediction")
if iv and not all(lo < g[0] < hi for (p_, lo, hi), g in zip(iv, got)):
    fail("prediction intervals do not hold the refined predictions")

# --refine --vcov HC1 -o keeps both; the sharded second pass with the refined
# model as -m gives the same model (its meat is of the refined coefficients).
# A sandwich on the collinear design above is noise (kappa 2e9: another
# order of the sums moves it at once), and so is one of columns far from
# zero (the meat is formed unshifted, as sandwich forms it), so on a plain
# design here.
with open(path("w.csv"), "w") as f:
    f.write("y,x1,x2,x3\n")
    for i in range(500):
        a, b, c = rng.random(), rng.random(), rng.gauss(0, 1)
        f.write(f"{3 + 2 * a - b + c + rng.gauss(0, 0.1 + a)!r},{a!r},{b!r},{c!r}\n")
data = path("w.csv")
fit("--refine", "-o", path("refined_w.json"))
both = fit("--refine", "--vcov", "HC1", "-o", path("both.json"))
mb = json.load(open(path("both.json")))
if "refined" not in mb or mb.get("robust", {}).get("type") != "HC1":
    fail(f"--refine --vcov HC1 -o: members {sorted(mb)}")
p = subprocess.run(f'for i in 1 2 3; do "$C" fit --emit-state --vcov HC1 -m "$M" --range $i/3 '
                   f'"$D"; done | "$C" solve -m "$M" -o "$O" --format json', shell=True,
                   capture_output=True, text=True,
                   env=dict(os.environ, C=CSVREG, D=data, M=path("refined_w.json"),
                            O=path("sharded.json")))
if p.returncode:
    fail(f"sharded second pass of the refined model: exit {p.returncode} {p.stderr}")
else:
    rep = json.loads(p.stdout)
    if [t["estimate"] for t in rep["terms"]] != [t["estimate"] for t in both["terms"]]:
        fail("solve -m of the refined model: not the refined coefficients")
    for k in ("std_error",):
        for a, b in zip(rep["terms"], both["terms"]):
            rel_close(a[k], b[k], 1e-11, f"sharded refined HC1 {a['name']} {k}")
    ms = json.load(open(path("sharded.json")))
    if ms.get("refined") != mb.get("refined"):
        fail("the sharded model lost the refinement")
    for kind in ("confidence", "prediction"):
        a = predictions(path("both.json"), "--interval", kind)
        b = predictions(path("sharded.json"), "--interval", kind)
        for i, (ra, rb) in enumerate(zip(a, b)):
            for x, y in zip(ra, rb):
                rel_close(y, x, 1e-10, f"sharded refined HC1 {kind} row {i}")
        if len(a) != len(b) or not a:
            fail(f"{kind}: {len(a)} and {len(b)} rows")

data = path("d.csv")
# a failed run (the cluster column of the second pass missing) leaves the
# old model as it was and no temporary file
before = open(path("refined.json"), "rb").read()
listing = sorted(os.listdir(tmp))
p = run("fit", *ARGS, "--refine", "--vcov", "cluster", "--cluster", "nope", "-o",
        path("refined.json"), data)
if p.returncode != 3 or open(path("refined.json"), "rb").read() != before or \
        sorted(os.listdir(tmp)) != listing:
    fail(f"a failed fit --refine -o: exit {p.returncode} {p.stderr}; the model or the folder "
         f"changed: {sorted(os.listdir(tmp))}")
# a model written to a folder that cannot take it: exit 4, nothing left
p = run("fit", *ARGS, "--refine", "-o", path("nodir/m.json"), data)
if p.returncode != 4 or os.path.exists(path("nodir")):
    fail(f"-o into a missing folder: exit {p.returncode} {p.stderr}")


def sealed(change, name):
    """The refined model changed by `change`, its checksum recomputed."""
    return resealed(path("refined.json"), change, path(name + ".json"))


edited = json.load(open(path("refined.json")))
edited["refined"]["coefficients"][1] *= 1.5
json.dump(edited, open(path("edited.json"), "w"))
p = run("predict", "-m", path("edited.json"), new)
if p.returncode != 6 or "checksum" not in p.stderr:
    fail(f"an edited refined coefficient: exit {p.returncode} {p.stderr}")


def bump(doc):
    doc["refined"]["coefficients"][1] = Raw(format(float(doc["refined"]["coefficients"][1]) * 1.5,
                                                   ".17g"))


for name, change, why in (
        ("moved", bump, "does not match"),
        ("short", lambda d: d["refined"]["coefficients"].pop(), "not one coefficient per term"),
        ("hole", lambda d: d["refined"]["coefficients"].__setitem__(0, None), "a number where"),
        ("stop", lambda d: d["refined"].update(stop="sure"), "no valid steps"),
        ("rss", lambda d: d["refined"].update(rss=Raw("-1.0")), "residual sum of squares")):
    p = run("predict", "-m", sealed(change, name), new)
    if p.returncode != 6 or why not in p.stderr:
        fail(f"a damaged refined member ({name}): exit {p.returncode} {p.stderr}")
    else:
        print(f"damaged ({name}):", p.stderr.strip())
p = run("predict", "-m", sealed(lambda d: None, "same"), new)
if p.returncode or [[float(row[-1])] for row in read_csv(p.stdout, text=True)[1:]] != got:
    fail(f"an unchanged sealed copy: exit {p.returncode} {p.stderr}")
finish()
