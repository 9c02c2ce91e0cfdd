import json
import os
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# eval runs on the library's pass engine with the evaluation sink, so
# --threads cuts a file into byte ranges and a stream into blocks: the
# metrics equal one thread's to rounding (the sinks merge in input order),
# the counts exactly, also with weights, NA rows and weight-0 rows.
# (stdout: the command's plain eval, for reference.)
with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "d.csv")
    with open(data, "w") as f:
        f.write('y,x1,"x,2",w\n')
        for i in range(1, 30001):
            x1, x2 = (i * 37) % 101 / 7.0, (i * 11) % 53 / 3.0
            y = 1.5 + 0.25 * x1 - 0.75 * x2 + ((i * 7919) % 97 - 48) / 50.0
            w = "0" if i % 997 == 0 else str(1 + i % 3)
            y = "NA" if i % 1009 == 0 else repr(y)
            f.write(f'{y},{x1!r},"{x2!r}",{w}\n')
    model = os.path.join(tmp, "m.json")
    p = run("fit", "-y", "y", "-w", "w", "-o", model, "--quiet", data)
    if p.returncode:
        fail(f"fit: {p.returncode} {p.stderr}")
    one = run("eval", "-m", model, "--format", "json", data)
    if one.returncode:
        fail(f"eval: {one.returncode} {one.stderr}")
    ref = json.loads(one.stdout)
    for args, stdin in [(["--threads", "2", data], None), (["--threads", "3", data], None),
                        (["--threads", "2", "-"], data), (["--threads", "2", "--chunk-rows", "7", data], None)]:
        if stdin:
            with open(stdin) as f:
                q = run("eval", "-m", model, "--format", "json", *args, stdin=f)
        else:
            q = run("eval", "-m", model, "--format", "json", *args)
        if q.returncode:
            fail(f"eval {args}: {q.returncode} {q.stderr}")
            continue
        got = json.loads(q.stdout)
        for k, v in ref.items():
            g = got[k]
            if isinstance(v, float):
                if abs(g - v) > 1e-12 * max(1.0, abs(v)):
                    fail(f"eval {args}: {k} {g} != {v}")
            elif g != v:
                fail(f"eval {args}: {k} {g} != {v}")
    if ref["n_zero_weight"] != 30 or ref["n_missing"] != 29:
        fail(f"counts {ref}")
finish()
