import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Sharding pass 1 of formula models with factors and transforms (and of a
# formula of transforms only): fit
# --emit-state per shard (2-4 --range shards; blocks of lines on standard
# input with --header-line, as GNU parallel --pipepart cuts them), merge,
# solve -o MODEL. Each shard sees its levels in another order (and some
# shards lack levels), so merge unions the level sets and solve orders them
# as the single pass does (R's order: bytes, relevel's ref first). The
# merged fit equals the single process's to 1e-11 and the solved model
# predicts as fit -o's model to 1e-12. States of different formulas do not
# merge (exit 6). (cmd: unused.)
tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
r = random.Random(21)
orders = [["p", "q", "r", "s"], ["s", "r", "t"], ["u", "q", "p", "s", "r", 'v"w']]
with open(data, "w") as f:
    f.write("y,x,g,h,k\n")
    for i in range(3000):
        part = i * 3 // 3000
        g = r.choice(orders[part])
        h = r.choice(["mm", "zz"] if part == 0 else ["zz", "aa", "mm"])
        x = r.uniform(1, 9)
        k = r.choice([4, 6, 8])
        y = 1 + 0.3 * x + 0.01 * ord(g[0]) + 0.1 * len(h) + 0.02 * k + r.gauss(0, 0.2)
        f.write('%r,%r,"%s",%s,%d\n' % (y, x, g.replace('"', '""'), h, k))
header = "y,x,g,h,k"
FORMULAS = [
    "log(y) ~ x + I(x^2) + g * h",
    'y ~ sqrt(x) + relevel(g, ref = "s") + factor(k):x',
    "y ~ 0 + h + g:x + poly(x, 2, raw = TRUE)",
    # transforms and no factor: the state keeps the formula's frame too
    "log(y) ~ I(x^2) + log(k) + sqrt(x)",
]


def coefs(text):
    return [(t["name"], t["estimate"], t["std_error"]) for t in json.loads(text)["terms"]]


def predictions(model):
    p = run("predict", "-m", model, data)
    if p.returncode:
        fail(f"predict -m {model}: {p.returncode} {p.stderr}")
        return []
    return [float(row[-1]) if row[-1] else None for row in read_csv(p.stdout, text=True)[1:]]


def compare(label, got_json, want, want_pred, model):
    got = coefs(got_json)
    if [n for n, _, _ in got] != [n for n, _, _ in want]:
        fail(f"{label}: terms {[n for n, _, _ in got]} != {[n for n, _, _ in want]}")
        return
    for (n, e, se), (_, e0, se0) in zip(got, want):
        rel_close(e, e0, 1e-11, f"{label}: {n} estimate")
        rel_close(se, se0, 1e-11, f"{label}: {n} std_error")
    pred = predictions(model)
    if len(pred) != len(want_pred):
        fail(f"{label}: {len(pred)} predictions, want {len(want_pred)}")
    for i, (a, b) in enumerate(zip(pred, want_pred)):
        rel_close(a, b, 1e-12, f"{label}: prediction {i}")


for fi, formula in enumerate(FORMULAS):
    single = os.path.join(tmp, f"single{fi}.json")
    p = run("fit", formula, data, "--format", "json", "-o", single)
    if p.returncode:
        fail(f"{formula}: fit: {p.returncode} {p.stderr}")
        continue
    want = coefs(p.stdout)
    want_pred = predictions(single)
    # --range shards
    for n in (2, 3, 4):
        states = []
        for i in range(1, n + 1):
            s = os.path.join(tmp, f"r{fi}_{n}_{i}.txt")
            with open(s, "w") as out:
                q = subprocess.run([CSVREG, "fit", formula, data, "--range", f"{i}/{n}",
                                    "--emit-state"], stdout=out, stderr=subprocess.PIPE, text=True)
            if q.returncode:
                fail(f"{formula} --range {i}/{n}: {q.returncode} {q.stderr}")
            states.append(s)
        model = os.path.join(tmp, f"m{fi}_{n}.json")
        # shards merged in reverse order: merge orders them by provenance
        m = subprocess.run([CSVREG, "merge", *reversed(states)], capture_output=True, text=True)
        q = subprocess.run([CSVREG, "solve", "--format", "json", "-o", model, "-"],
                           input=m.stdout, capture_output=True, text=True)
        if m.returncode or q.returncode:
            fail(f"{formula} {n} ranges: merge {m.returncode} {m.stderr} solve {q.returncode} "
                 f"{q.stderr}")
            continue
        compare(f"{formula} {n} ranges", q.stdout, want, want_pred, model)
    # blocks of lines on standard input (GNU parallel --pipepart), the
    # header given: a block's first line equal to it is skipped
    lines = open(data).read().splitlines(keepends=True)[1:]
    blocks = [lines[:700], lines[700:1900], lines[1900:2400], lines[2400:]]
    states = []
    for b, block in enumerate(blocks):
        text = ("" if b else header + "\n") + "".join(block)
        q = subprocess.run([CSVREG, "fit", formula, "--header-line", header, "--emit-state",
                            "--shard-id", f"b{b}", "-"], input=text, capture_output=True,
                           text=True)
        if q.returncode:
            fail(f"{formula} block {b}: {q.returncode} {q.stderr}")
        states.append(q.stdout)
    model = os.path.join(tmp, f"mb{fi}.json")
    q = subprocess.run([CSVREG, "solve", "--format", "json", "-o", model, "-"],
                       input="".join(states), capture_output=True, text=True)
    if q.returncode:
        fail(f"{formula} stdin blocks: solve {q.returncode} {q.stderr}")
    else:
        compare(f"{formula} stdin blocks", q.stdout, want, want_pred, model)

# states of different formulas: refused (exit 6, as other mismatches)
a, b = os.path.join(tmp, "a.txt"), os.path.join(tmp, "b.txt")
for path, formula in ((a, FORMULAS[0]), (b, "log(y) ~ x + g * h")):
    with open(path, "w") as out:
        subprocess.run([CSVREG, "fit", formula, data, "--range", "1/2", "--emit-state"],
                       stdout=out)
p = run("merge", a, b)
if p.returncode != 6 or "formula" not in p.stderr:
    fail(f"merge of two formulas: exit {p.returncode} {p.stderr!r}")
p = run("solve", "-o", os.path.join(tmp, "x.json"), a, b)
if p.returncode != 6:
    fail(f"solve of two formulas: exit {p.returncode} {p.stderr!r}")
shutil.rmtree(tmp)
finish()
