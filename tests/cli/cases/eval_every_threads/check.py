import json
import os
import math
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# eval --every across threads (issue 16, bounded windows): the windows are
# the same bytes for --threads 1..4 on a file (byte ranges) and on standard
# input (blocks, CSVREG_STDIN_BLOCK small so a window spans many), for CSV
# and JSON, with chunk sizes 7 and the default, with weights, NA rows (a
# window may have no scored row), --skip-bad rows and windows that span
# chunks and pieces; the total in JSON is one thread's to 1e-12 (its sums
# merge per piece). Windows against a Python recomputation from predict's
# predictions (math.fsum, 1e-12). A window's rows reach its evaluator in
# whole blocks counted from its own first row, so no cut shows.

tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "d.csv")
N = 9000  # ~300 KB: four byte ranges of at least 64 KiB
with open(data, "w") as f:
    f.write("y,x1,x2,w\n")
    for i in range(1, N + 1):
        x1, x2 = (i * 37) % 101 / 7.0, (i * 11) % 53 / 3.0
        y = 1.5 + 0.25 * x1 - 0.75 * x2 + ((i * 7919) % 97 - 48) / 50.0 + (i / N) ** 2
        w = str(1 + i % 3)
        if i % 1009 == 0 or 700 <= i < 720:  # NA rows, and windows of NA rows only
            f.write(f"NA,{x1!r},{x2!r},{w}\n")
        elif i % 1201 == 0:  # a bad cell, skipped
            f.write(f"{y!r},oops,{x2!r},{w}\n")
        else:
            f.write(f"{y!r},{x1!r},{x2!r},{w}\n")
model = os.path.join(tmp, "m.json")
p = run("fit", "-y", "y", "-x", "x1,x2", "-w", "w", "--skip-bad", "-o", model, "--quiet", data)
if p.returncode:
    fail(f"fit: {p.returncode} {p.stderr}")


def ev(every, threads, stdin, fmt, chunk=None):
    args = ["eval", "-m", model, "--skip-bad", "--quiet", "--every", str(every), "--format", fmt,
            "--threads", str(threads)]
    if chunk:
        args += ["--chunk-rows", str(chunk)]
    env = dict(os.environ, CSVREG_STDIN_BLOCK="4096")
    if stdin:
        with open(data) as f:
            q = subprocess.run([CSVREG, *args, "-"], stdin=f, capture_output=True, text=True,
                               env=env)
    else:
        q = subprocess.run([CSVREG, *args, data], capture_output=True, text=True, env=env)
    if q.returncode:
        fail(f"{args} stdin={stdin}: exit {q.returncode} {q.stderr}")
    return q.stdout


# the reference windows (weighted), from predict's predictions
pred = read_csv(run("predict", "-m", model, "--skip-bad", data).stdout, text=True)
head = pred[0]
yi, pi, wi = head.index("y"), head.index("prediction"), head.index("w")


def reference(every):
    wins = {}
    for i, r in enumerate(pred[1:]):
        try:
            y, p, w = float(r[yi]), float(r[pi]), float(r[wi])
        except ValueError:
            continue
        wins.setdefault(i // every, []).append((y, p, w))
    return wins


for every in (1, 7, 333, 5000, N):
    base = ev(every, 1, False, "csv")
    rows = read_csv(base, text=True)
    want_n = (N + every - 1) // every
    if len(rows) != want_n + 1:
        fail(f"every {every}: {len(rows) - 1} windows, want {want_n}")
        continue
    ref = reference(every)
    for r in rows[1:] if every != 1 else rows[1:2000]:
        k = int(r[0]) - 1
        got_n = int(r[3])
        want = ref.get(k, [])
        if got_n != len(want):
            fail(f"every {every} window {k + 1}: n {got_n}, want {len(want)}")
            continue
        if not want:
            if r[5] != "NA":
                fail(f"every {every} window {k + 1}: rmse {r[5]} of no rows")
            continue
        sw = math.fsum(w for _, _, w in want)
        mse = math.fsum(w * (y - p) ** 2 for y, p, w in want) / sw
        mae = math.fsum(w * abs(y - p) for y, p, w in want) / sw
        rel_close(float(r[4]), mse, 1e-12, f"every {every} window {k + 1} mse")
        rel_close(float(r[6]), mae, 1e-12, f"every {every} window {k + 1} mae")
        if len(want) > 1:
            ybar = math.fsum(w * y for y, _, w in want) / sw
            syy = math.fsum(w * (y - ybar) ** 2 for y, _, w in want)
            if syy > 0:
                rel_close(float(r[10]), 1 - mse * sw / syy, 1e-10, f"every {every} r2 {k + 1}")
    base_json = json.loads(ev(every, 1, False, "json"))
    # CSV and JSON windows the same numbers
    for r, wj in zip(rows[1:], base_json["windows"]):
        for key, v in zip(rows[0], r):
            jv = wj[key]
            if (jv is None) != (v == "NA") or (jv is not None and float(v) != float(jv)):
                fail(f"every {every}: json {key} {jv} vs csv {v}")
                break
    for threads in (1, 2, 3, 4) if every != 1 else (1, 3):  # (the sanitizers' time)
        for stdin in (False, True):
            for chunk in (None, 7):
                if every == 1 and chunk:
                    continue
                what = f"every {every} threads {threads} stdin {stdin} chunk {chunk}"
                got = ev(every, threads, stdin, "csv", chunk)
                if got != base:
                    fail(f"{what}: CSV differs from one thread's")
                if chunk:
                    continue
                j = json.loads(ev(every, threads, stdin, "json", chunk))
                if j.get("windows") != base_json["windows"]:
                    fail(f"{what}: JSON windows differ from one thread's")
                for k, v in base_json.items():
                    if k == "windows":
                        continue
                    if isinstance(v, float):  # the mean error is ~1e-16: absolute near 0
                        if abs(j[k] - v) > 1e-12 * max(1.0, abs(v)):
                            fail(f"{what}: total {k} {j[k]} != {v}")
                    elif j[k] != v:
                        fail(f"{what}: total {k} {j[k]} != {v}")
shutil.rmtree(tmp)
finish()
