import json
import os
import random
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# head12 (issue 12): the level head, one factor's indicator columns folded
# apart from the dense QR state while rows are read (src/linalg/accum_head.c).
# A 300-level factor whose levels keep arriving through the file (the last
# ones only in the last rows), with numbers, a second factor, a factor x
# numeric interaction, weights (some 0), NA rows, a non-finite transform
# dropped by --skip-bad, no intercept: equal to R's lm (1e-9) and to the
# dense path (CSVREG_LEVEL_HEAD=0, 1e-11) at chunk sizes 1, 7 and the
# default, with --threads 2, and through --emit-state, merge and solve.
# (stdout: fit --help, unused.)
require_r()
tmp = tempfile.mkdtemp()
N, L = 3000, 300
rng = random.Random(12)
data = os.path.join(tmp, "lv.csv")
with open(data, "w") as f:
    f.write("x1,g,x2,h,z,w,y\n")
    for i in range(N):
        lv = rng.randrange(min(L, i * L // (N - 200) + 1))  # the last levels in the last rows
        h = rng.choice("abcde")
        x1 = rng.uniform(-5, 5)
        x2 = rng.uniform(0, 10)
        z = rng.uniform(0.5, 3) if i % 97 else 0.0  # log(0): dropped by --skip-bad
        w = rng.choice([0, 0.5, 1, 2, 3]) if i % 13 else 0
        y = 1 + 0.5 * x1 - 0.25 * x2 + ((lv * 37) % 11) * 0.2 + "abcde".index(h) * 0.3 \
            + 0.1 * x1 * "abcde".index(h) + rng.gauss(0, 1)
        c1 = "" if i % 211 == 5 else f"{x1:.6f}"  # NA rows
        g = "NA" if i % 157 == 3 else f"L{lv:03d}"
        f.write(f"{c1},{g},{x2:.6f},{h},{z:.6f},{w},{y:.6f}\n")


def r_fit(formula, weights=False, subset=""):
    return r_lm_coefs(data, formula, prep=subset, lm_args=", weights = w" if weights else "")


def fit(formula, *opts, head=True, stdin=None):
    env = dict(os.environ, CSVREG_LEVEL_HEAD="1" if head else "0")
    p = subprocess.run([CSVREG, "fit", formula, *( [] if stdin else [data]), "--format", "json",
                        *opts], capture_output=True, text=True, env=env, input=stdin)
    if p.returncode:
        fail(f"{formula} {opts}: exit {p.returncode} {p.stderr}")
        return None
    return json.loads(p.stdout)


def close(got, want, tol, scale, what):
    """|got - want| <= tol * max(|want|, scale): a coefficient near 0 is
    judged on the scale of its standard error."""
    if abs(got - want) > tol * max(abs(want), scale):
        fail(f"{what}: got {got!r}, want {want!r} (tolerance {tol})")


def same(a, b, tol, what):
    """Two csvreg reports: the same terms, estimates and SEs to tol."""
    if a is None or b is None:
        return
    ta, tb = a["terms"], b["terms"]
    if [t["name"] for t in ta] != [t["name"] for t in tb]:
        fail(f"{what}: terms differ")
        return
    for x, y in zip(ta, tb):
        if bool(x.get("aliased")) != bool(y.get("aliased")):
            fail(f"{what}: {x['name']} aliased differs")
            continue
        if x.get("aliased"):
            continue
        close(x["estimate"], y["estimate"], tol, y["std_error"], f"{what}: {x['name']} estimate")
        close(x["std_error"], y["std_error"], tol, 0, f"{what}: {x['name']} std_error")
    for k in ("residual_sd", "r_squared", "rss"):
        close(a[k], b[k], tol, 0, f"{what}: {k}")
    for k in ("n", "rank", "df_residual"):
        if a[k] != b[k]:
            fail(f"{what}: {k} {a[k]} != {b[k]}")


def vs_r(got, want, sig, what, tol=1e-9):
    if got is None:
        return
    terms = got["terms"]
    if [t["name"] for t in terms] != [n for n, _, _ in want]:
        fail(f"{what}: terms differ from R's")
        return
    for t, (n, e, se) in zip(terms, want):
        if e is None:
            if not t.get("aliased"):
                fail(f"{what}: {n} should be aliased (NA in R)")
            continue
        close(t["estimate"], e, tol, se, f"{what}: {n} estimate")
        close(t["std_error"], se, tol, 0, f"{what}: {n} std_error")
    close(got["residual_sd"], sig[0], tol, 0, f"{what}: sigma")
    close(got["r_squared"], sig[1], tol, 0, f"{what}: r_squared")


cases = [
    ("y ~ x1 + x2 + g", ()),
    ("y ~ x1 + g + h", ()),
    ("y ~ x1 * h + g", ()),
    ("y ~ g + x2:h", ()),
    ("y ~ g + x1 - 1", ()),
    ("y ~ x1 + g", ("-w", "w")),
]
for formula, opts in cases:
    weighted = "-w" in opts
    want, sig = r_fit(formula, weighted)
    dense = fit(formula, *opts, head=False)
    for chunk in ((), ("--chunk-rows", "1"), ("--chunk-rows", "7")):
        what = f"{formula} {' '.join(opts + chunk)}"
        got = fit(formula, *opts, *chunk)
        vs_r(got, want, sig, what)
        same(got, dense, 1e-11, what + " vs the dense path")
    # the head path really ran: not the dense path's bits
    got = fit(formula, *opts)
    if got and dense and got["terms"] == dense["terms"]:
        fail(f"{formula}: the head gave the dense path's bits (was it used?)")
    same(fit(formula, *opts, "--threads", "2"), got, 1e-11, f"{formula}: --threads 2")
    # the solver that keeps no head
    vs_r(fit(formula, *opts, "--solver", "normal"), want, sig, f"{formula} --solver normal")

# --skip-bad: log(0) rows dropped, as R's subset
want, sig = r_fit("y ~ log(z) + g", subset="d <- d[d$z > 0, ]")
vs_r(fit("y ~ log(z) + g", "--skip-bad"), want, sig, "--skip-bad log(z)")

# --emit-state of 3 ranges merged in reverse order, solved: the one-pass fit
formula = "y ~ x1 + g + h"
one = fit(formula)
states = []
for i in range(1, 4):
    s = os.path.join(tmp, f"s{i}.json")
    with open(s, "w") as out:
        p = subprocess.run([CSVREG, "fit", formula, data, "--range", f"{i}/3", "--emit-state"],
                           stdout=out, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        fail(f"emit-state {i}/3: {p.stderr}")
    states.append(s)
m = subprocess.run([CSVREG, "merge", *reversed(states)], capture_output=True, text=True)
q = subprocess.run([CSVREG, "solve", "--format", "json", "-"], input=m.stdout,
                   capture_output=True, text=True)
if m.returncode or q.returncode:
    fail(f"merge/solve: {m.stderr} {q.stderr}")
else:
    same(json.loads(q.stdout), one, 1e-11, "3 ranges' states merged and solved")
# standard input in blocks with --threads 2 (many pieces merged)
with open(data) as f:
    text = f.read()
same(fit(formula, "-", "--threads", "2", stdin=text), one, 1e-11, "stdin --threads 2")
# --update: a model of the first half, then the second half (levels the
# model never saw) folded in = the fit of the whole file
with open(data) as f:
    lines = f.read().splitlines(True)
first, second = os.path.join(tmp, "first.csv"), os.path.join(tmp, "second.csv")
with open(first, "w") as f:
    f.writelines(lines[:1 + N // 2])
with open(second, "w") as f:
    f.writelines(lines[:1] + lines[1 + N // 2:])
m1, m2 = os.path.join(tmp, "m1.json"), os.path.join(tmp, "m2.json")
p = subprocess.run([CSVREG, "fit", formula, first, "-o", m1], capture_output=True, text=True)
q = subprocess.run([CSVREG, "fit", "--update", m1, second, "-o", m2, "--format", "json"],
                   capture_output=True, text=True)
if p.returncode or q.returncode:
    fail(f"--update: {p.stderr} {q.stderr}")
else:
    same(json.loads(q.stdout), one, 1e-11, "--update with new levels")
finish()
