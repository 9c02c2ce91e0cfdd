import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# The model of the sharded robust recipe (issue 13): pass 1 in ranges,
# merged and solved to a model; pass 2 (fit --emit-state --vcov TYPE -m
# MODEL) in ranges; solve -m MODEL MEAT... -o keeps the robust covariance,
# so predict --interval from it equals predict from fit --vcov TYPE -o on
# the whole file (1e-10 relative: the two solve the same sums added in
# another order), for HC0, HC1, HC3, one- and two-way clusters, a weighted
# fit and a formula with a factor. The model of pass 1 alone stays
# classical; a failed solve -m -o leaves the old file. (cmd: unused.)
tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
new = os.path.join(tmp, "new.csv")
r = random.Random(1313)
with open(data, "w") as f:
    f.write("x1,x2,g,h,w,y\n")
    for i in range(1200):
        a, b = r.gauss(0, 1), r.uniform(-3, 3)
        g, h = r.randrange(31), r.choice("abcde")
        w = r.choice([0.5, 1, 2, 3])
        y = 1 + 2 * a - b + r.gauss(0, 1 + abs(a)) + 0.3 * (g % 5) + (h == "c")
        f.write(f"{a!r},{b!r},{g},{h},{w!r},{y!r}\n")
with open(new, "w") as f:
    f.write("x1,x2,g,h,w\n")
    for i in range(40):
        f.write(f"{r.gauss(0, 2)!r},{r.uniform(-4, 4)!r},{r.randrange(31)},"
                f"{r.choice('abcde')},{r.choice([0.5, 1, 2])!r}\n")


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                          env=dict(os.environ, C=CSVREG, D=data), cwd=tmp)


def intervals(model, *extra):
    out = {}
    for kind in ("confidence", "prediction"):
        # the new rows' weights change prediction intervals only
        p = run("predict", "-m", model, "--interval", kind,
                *(extra if kind == "prediction" else ()), new)
        if p.returncode:
            fail(f"predict -m {model} --interval {kind}: exit {p.returncode} {p.stderr}")
            return None
        out[kind] = [[float(v) for v in row[-3:]] for row in read_csv(p.stdout, text=True)[1:]]
    return out


def compare(a, b, what):
    worst = 0.0
    for kind in a:
        if len(a[kind]) != len(b[kind]):
            fail(f"{what} {kind}: {len(a[kind])} rows, {len(b[kind])} rows")
            continue
        for ra, rb in zip(a[kind], b[kind]):
            for x, y in zip(ra, rb):
                worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    print(f"{what}: worst relative difference {worst:.3g}")
    if not worst <= 1e-10:
        fail(f"{what}: {worst:.3g} > 1e-10")


cases = [("HC0", "", "-y y -x x1,x2"), ("HC1", "", "-y y -x x1,x2"),
         ("HC3", "", "-y y -x x1,x2"), ("cluster", "--cluster g", "-y y -x x1,x2"),
         ("cluster", "--cluster g,h", "-y y -x x1,x2 -w w"), ("HC1", "", "-y y -x x1,x2 -w w"),
         ("HC3", "", "'y ~ x1 + log(abs(x2)) + h'")]
for vcov, cl, model_args in cases:
    what = f"{model_args} --vcov {vcov} {cl}"
    sh("rm -f *.json *.meat")
    one = sh(f'"$C" fit {model_args} --vcov {vcov} {cl} -o one.json "$D"')
    p1 = sh(f'for i in 1 2 3; do "$C" fit --emit-state {model_args} --range $i/3 "$D"; done '
            f'| "$C" merge | "$C" solve -o pass1.json')
    p2 = sh(f'for i in 1 2; do "$C" fit --emit-state --vcov {vcov} {cl} -m pass1.json '
            f'--range $i/2 "$D"; done | "$C" merge | "$C" solve -m pass1.json -o robust.json '
            f'--format json')
    if one.returncode or p1.returncode or p2.returncode:
        fail(f"{what}: exit {one.returncode} {p1.returncode} {p2.returncode}: "
             f"{one.stderr} {p1.stderr} {p2.stderr}")
        continue
    rob = json.load(open(os.path.join(tmp, "robust.json"))).get("robust")
    if not rob or rob["type"] != vcov:
        fail(f"{what}: the model of solve -m -o has robust {rob}")
        continue
    if "robust" in json.load(open(os.path.join(tmp, "pass1.json"))):
        fail(f"{what}: the model of pass 1 has a robust member")
    # the report printed is the report of the model's robust fit
    if json.loads(p2.stdout).get("vcov_type") != vcov:
        fail(f"{what}: solve -m -o report has vcov_type {json.loads(p2.stdout).get('vcov_type')}")
    extra = ("-w", "w") if "-w" in model_args else ()
    a = intervals(os.path.join(tmp, "one.json"), *extra)
    b = intervals(os.path.join(tmp, "robust.json"), *extra)
    c = intervals(os.path.join(tmp, "pass1.json"), *extra)
    if a and b:
        compare(a, b, what)
    if b and c and b["confidence"] == c["confidence"]:
        fail(f"{what}: the sharded robust model's intervals are the classical ones")

# meat given unmerged, in any order, gives the same model file byte for byte
sh("rm -f *.json *.meat")
p = sh('for i in 1 2 3; do "$C" fit --emit-state -y y -x x1,x2 --range $i/3 "$D"; done '
       '| "$C" merge | "$C" solve -o pass1.json && for i in 1 2 3; do "$C" fit --emit-state '
       '--vcov HC1 -m pass1.json --range $i/3 "$D" -o p$i.meat || exit 1; done && '
       '"$C" merge p1.meat p2.meat p3.meat | "$C" solve -m pass1.json -o merged.json >/dev/null '
       '&& "$C" solve -m pass1.json p3.meat p1.meat p2.meat -o loose.json > /dev/null')
if p.returncode:
    fail(f"unmerged: exit {p.returncode} {p.stderr}")
elif open(os.path.join(tmp, "merged.json")).read() != open(os.path.join(tmp, "loose.json")).read():
    fail("unmerged meat states: another model file")

# a failed solve -m -o (a shard of the second pass missing) writes nothing
# and leaves the file there as it was
keep = open(os.path.join(tmp, "merged.json")).read()
p = sh('"$C" solve -m pass1.json p1.meat p3.meat -o merged.json')
if p.returncode != 3 or "missing" not in p.stderr:
    fail(f"a shard missing: exit {p.returncode} {p.stderr}")
if open(os.path.join(tmp, "merged.json")).read() != keep:
    fail("a failed solve -m -o changed the model file")
if sorted(os.listdir(tmp)) != sorted(["d.csv", "new.csv", "pass1.json", "merged.json",
                                      "loose.json", "p1.meat", "p2.meat", "p3.meat"]):
    fail(f"a failed solve -m -o left {sorted(os.listdir(tmp))}")
shutil.rmtree(tmp)
finish()
