import json
import os
import random
import subprocess
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Robust standard errors of columns far from zero (issue 13). Written on the
# raw columns, V = C M C cancels: with columns 1e6 and -3e6 from zero,
# sandwich's own HC1 standard errors of this data keep 4-5 digits, and
# csvreg's did too (3.8e-5 off). The reference is sandwich on the same data
# centred (exact here: centring is a change of coordinates that leaves the
# slopes and their covariance alone), the intercept's row mapped back with
# L V L' (b0 = b0_c - sum_j c_j b_j). HC0..HC3, one- and two-way clusters, a
# weighted fit, each to 1e-9 relative, on one process and on the sharded
# recipe (2 ranges, solve -o, the second pass's meat states, solve -m).
# A meat state of version 1 (summed on the raw columns) is refused: exit 6.
# (cmd: fit --help, unused.)
require_r("R's sandwich (Debian r-cran-sandwich)")
tmp = tempfile.mkdtemp()
data = os.path.join(tmp, "off.csv")
rnd = random.Random(5)
CX, CZ = 1e6, -3e6
with open(data, "w") as o:
    o.write("y,x,z,g,h,w\n")
    for i in range(2000):
        x, z = rnd.gauss(0, 1), rnd.gauss(0, 2)
        y = 3 + 2 * x - z + rnd.gauss(0, 1) * (1 + abs(x))
        o.write(f"{y:.10g},{CX + x:.10g},{CZ + z:.10g},g{i % 41},h{rnd.randrange(9)},"
                f"{rnd.uniform(0.5, 2):.4f}\n")

CASES = [  # (name, csvreg args, R vcov of m)
    ("HC0", ["--vcov", "HC0"], 'vcovHC(m, type = "HC0")', ""),
    ("HC1", ["--vcov", "HC1"], 'vcovHC(m, type = "HC1")', ""),
    ("HC2", ["--vcov", "HC2"], 'vcovHC(m, type = "HC2")', ""),
    ("HC3", ["--vcov", "HC3"], 'vcovHC(m, type = "HC3")', ""),
    ("cluster", ["--vcov", "cluster", "--cluster", "g"], 'vcovCL(m, cluster = ~g, type = "HC1")', ""),
    ("two-way", ["--vcov", "cluster", "--cluster", "g,h"],
     'vcovCL(m, cluster = ~g + h, type = "HC1")', ""),
    ("weighted HC1", ["--vcov", "HC1", "-w", "w"], 'vcovHC(m, type = "HC1")', "w"),
]

code = f'suppressMessages(library(sandwich)); d <- read.csv("{data}"); ' \
       f'd$x <- d$x - ({CX!r}); d$z <- d$z - ({CZ!r}); L <- diag(3); L[1, 2:3] <- -c({CX!r}, {CZ!r}); '
for name, _, vc, w in CASES:
    wt = ", weights = w" if w else ""
    code += (f'm <- lm(y ~ x + z, d{wt}); V <- L %*% {vc} %*% t(L); '
             f'cat(sprintf("%.17g", sqrt(diag(V))), "\\n"); ')
want = [[float(v) for v in line.split()] for line in R(code).strip().splitlines()]
if len(want) != len(CASES):
    fail(f"R gave {len(want)} rows for {len(CASES)} cases")
    finish()


def ses(text):
    return [t["std_error"] for t in json.loads(text)["terms"]]


def sh(cmd):
    return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, cwd=tmp,
                          env=dict(os.environ, C=CSVREG, D=data))


for (name, args, _, w), ref in zip(CASES, want):
    p = run("fit", "-y", "y", "-x", "x,z", *args, data, "--format", "json")
    if p.returncode:
        fail(f"{name}: exit {p.returncode} {p.stderr}")
        continue
    for t, got, r in zip(("(Intercept)", "x", "z"), ses(p.stdout), ref):
        rel_close(got, r, 1e-9, f"{name} {t} std. error")
    # the sharded recipe: pass 1 in 2 ranges, solved; pass 2's meat in 2 ranges
    wa = f"-w {w}" if w else ""
    va = " ".join(a for a in args if a not in ("-w", "w"))
    p = sh(f'for i in 1 2; do "$C" fit -y y -x x,z {wa} --emit-state --range $i/2 "$D"; done '
           f'| "$C" merge | "$C" solve --quiet -o model.json >/dev/null && '
           f'for i in 1 2; do "$C" fit --emit-state {va} -m model.json --range $i/2 "$D"; done '
           f'| "$C" merge | "$C" solve -m model.json --format json')
    if p.returncode:
        fail(f"{name} sharded: exit {p.returncode} {p.stderr}")
        continue
    for t, got, r in zip(("(Intercept)", "x", "z"), ses(p.stdout), ref):
        rel_close(got, r, 1e-9, f"{name} sharded {t} std. error")

# A meat state of the old coordinates (version 1, checksum valid) is refused.
p = sh('"$C" fit --emit-state --vcov HC1 -m model.json "$D"')
if p.returncode:
    fail(f"meat state: exit {p.returncode} {p.stderr}")
else:
    import zlib
    # the line keeps its order (a meat line is known by its first member);
    # the checksum covers the compact text, members in order (meat_state.c)
    d = json.loads(p.stdout)
    if d.get("version") != 2:
        fail(f"meat state version {d.get('version')}, want 2")
    d["version"] = 1
    d.pop("checksum")
    d["checksum"] = "crc32:%08x" % zlib.crc32(
        json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode())
    with open(os.path.join(tmp, "old.meat"), "w") as o:
        o.write(json.dumps(d, separators=(",", ":"), ensure_ascii=False) + "\n")
    p = sh('"$C" solve -m model.json old.meat')
    if p.returncode != 6 or "meat state version 1 was made by an older csvreg" not in p.stderr:
        fail(f"a version 1 meat state: exit {p.returncode} {p.stderr!r}")
finish()
