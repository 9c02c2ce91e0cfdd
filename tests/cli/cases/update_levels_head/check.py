import json
import os
import random
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit --update with new levels = refit, on the path where the update's pass
# folds a factor in the level head (issue 12's acceptance; update_levels
# covers formulas whose factors stay dense: two or more main-effect factors
# of few levels). Here the head takes the factor by the default rule: a
# formula's only factor (y ~ g + x), and a factor of >= 64 levels beside a
# small one (y ~ k + h + x). The new rows bring new levels, one of them the
# new baseline (it sorts first). --update equals a fit on all rows (1e-11
# relative), the same with --threads 2 and with the head off
# (CSVREG_LEVEL_HEAD=0), and R's lm (1e-9, LC_COLLATE=C); the head's bits
# differ from the dense path's (so it ran). (stdout: fit --help, unused.)
require_r()
tmp = tempfile.mkdtemp()
rng = random.Random(1212)
HEAD = "y,x,g,k,h\n"
rows = []
for i in range(4000):
    old = i < 2000
    g = rng.choice("bcdefgh" if old else "abcdefghij")       # a: new baseline
    k = "k%03d" % rng.randrange(1, 70 if old else 90)        # 69 levels, then 89 and k000
    if not old and i % 50 == 0:
        k = "k000"                                           # the new baseline of k
    h = rng.choice("uvw")
    x = rng.uniform(-3, 3) + 40.0                            # far from 0: shifts matter
    y = (2 + 0.7 * x + "abcdefghij".index(g) * 0.3 + int(k[1:]) * 0.01 +
         {"u": 0, "v": 0.4, "w": -0.2}[h] + rng.gauss(0, 0.5))
    rows.append(f"{y:.6f},{x:.6f},{g},{k},{h}\n")


def write(name, part):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(HEAD + "".join(part))
    return path


A, B, AB = write("A.csv", rows[:2000]), write("B.csv", rows[2000:]), write("AB.csv", rows)


def jfit(*args, env=None):
    p = run("fit", *args, "--format", "json", env=env)
    if p.returncode:
        fail(f"{args}: exit {p.returncode} {p.stderr}")
        return None
    return json.loads(p.stdout)


same = same_fit


dense = dict(os.environ, CSVREG_LEVEL_HEAD="0")
for f, base, was in (("y ~ g + x", "ga", "gb"), ("y ~ k + h + x", "kk000", "kk001")):
    m = os.path.join(tmp, "m.json")
    if run("fit", f, A, "-o", m).returncode:
        fail(f"{f}: fit -o failed")
        continue
    ref = jfit(f, AB)
    got = jfit("--update", m, B)
    if got is None or ref is None:
        continue
    # the new baseline: the old one is now a column, the new one none
    names = [t["name"] for t in got["terms"]]
    if base in names or was not in names:
        fail(f"{f}: terms {names[:4]}...: the new baseline was not chosen")
    same(got, ref, 1e-11, f"{f}: --update = refit")
    same(jfit("--update", m, B, "--threads", "2"), ref, 1e-11, f"{f}: --update --threads 2")
    off = jfit("--update", m, B, env=dense)
    same(off, ref, 1e-11, f"{f}: --update, head off = refit")
    if off is not None and all(t["estimate"] == u["estimate"] and t["std_error"] == u["std_error"]
                               for t, u in zip(got["terms"], off["terms"])):
        fail(f"{f}: the update's bits equal the dense path's: did the head run?")
    want, (sigma, r2) = r_lm_coefs(AB, f)
    check_lm_terms(got, want, sigma, r2, 1e-9, f"{f}: --update (R)")
    print(f"{f}: --update = refit, --threads 2, head off, R: {len(names)} terms")
finish()
