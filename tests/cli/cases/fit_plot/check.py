"""fit --plot (issue 16): after the fit a second pass draws its own training
rows. The figure is the one eval --plot draws for the model fit -o saves, on
the same file, byte for byte (SVG), for -y/-x and a formula with a factor,
weighted, with --threads 2, small chunks and --range; standard input with
--spill (and without: exit 2); --skip-bad rows are left out of both; the
PNG's IHDR is 1000x800; the combinations a second pass cannot draw are usage
errors, and a failing first pass leaves no picture."""
import os
import random
import shutil
import struct
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

tmp = tempfile.mkdtemp()
rng = random.Random(7)
data = os.path.join(tmp, "d.csv")
with open(data, "w") as f:
    f.write("y,x,z,g,w\n")
    for i in range(3000):
        x, z, g = rng.gauss(0, 1), rng.uniform(1, 9), rng.choice("abcd")
        y = 2 + x - 0.5 * z + {"a": 0, "b": 1, "c": -1, "d": 0.5}[g] + rng.gauss(0, 1 + abs(x))
        f.write(f"{y:.6f},{x:.6f},{z:.6f},{g},{rng.uniform(0.5, 2):.4f}\n")
bad = os.path.join(tmp, "bad.csv")
with open(data) as f, open(bad, "w") as o:
    for i, line in enumerate(f):
        o.write("oops,1,2,a,1\n" if i in (50, 2000) else line)


def p(name):
    return os.path.join(tmp, name)


def same_as_eval(fit_args, what, eval_input=None, eval_extra=()):
    for q in ("fit.svg", "eval.svg", "m.json"):
        if os.path.exists(p(q)):
            os.remove(p(q))
    r = run("fit", *fit_args, "--plot", p("fit.svg"), "-o", p("m.json"))
    if r.returncode:
        fail(f"{what}: fit --plot exit {r.returncode}: {r.stderr}")
        return
    e = run("eval", "-m", p("m.json"), eval_input or data, "--plot", p("eval.svg"), *eval_extra)
    if e.returncode:
        fail(f"{what}: eval --plot exit {e.returncode}: {e.stderr}")
        return
    a, b = open(p("fit.svg"), "rb").read(), open(p("eval.svg"), "rb").read()
    if a != b:
        fail(f"{what}: fit --plot differs from eval --plot of its model")
    ET.parse(p("fit.svg"))  # parses
    print(f"{what}: the same figure ({len(a)} bytes)")


same_as_eval(["-y", "y", "-x", "x,z", data], "-y/-x")
same_as_eval(["y ~ x * g + log(z)", data], "formula with a factor")
same_as_eval(["y ~ x + g", "-w", "w", data], "weighted")
same_as_eval(["y ~ x + g", data, "--threads", "2", "--chunk-rows", "7"], "--threads 2, 7-row chunks")
same_as_eval(["y ~ x + g", data, "--skip-bad"], "clean file, --skip-bad")
same_as_eval(["y ~ x + g", bad, "--skip-bad"], "two bad rows skipped", bad, ["--skip-bad"])
# --range 1/1 is the whole file through the range path
same_as_eval(["y ~ x + g", data, "--range", "1/1"], "--range 1/1")
# --vcov and --plot: both second passes
same_as_eval(["y ~ x + g", data, "--vcov", "HC1"], "--vcov HC1")

# standard input: --spill DIR, the spill removed after
spill = p("spill")
os.mkdir(spill)
with open(data) as f:
    r = run("fit", "y ~ x + g", "-", "--plot", p("s.png"), "--spill", spill, stdin=f)
if r.returncode or os.listdir(spill):
    fail(f"stdin --spill: exit {r.returncode} {r.stderr} left {os.listdir(spill)}")
else:
    with open(p("s.png"), "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", head[16:24]) != (1000, 800):
        fail(f"stdin --spill: not a 1000x800 PNG: {head!r}")
with open(data) as f:
    r = run("fit", "y ~ x + g", "-", "--plot", p("s2.png"), stdin=f)
if r.returncode != 2 or "--spill DIR" not in r.stderr or os.path.exists(p("s2.png")):
    fail(f"stdin without --spill: exit {r.returncode} {r.stderr!r}")

# what a second pass of the fitted rows cannot draw: usage errors, no file
for extra, want in ((["--cv", "3"], "not with --holdout or --cv"),
                    (["--holdout", "0.2"], "not with --holdout or --cv"),
                    (["--emit-state"], "not with --emit-state"),
                    (["--plot", p("again.png")], "--plot")):
    r = run("fit", "-y", "y", "-x", "x", data, "--plot", p("u.png"), *extra)
    if r.returncode != 2 or want not in r.stderr or os.path.exists(p("u.png")):
        fail(f"--plot with {extra}: exit {r.returncode} {r.stderr!r}")
r = run("fit", "-y", "y", "-x", "x", data, "--spill", spill)
if r.returncode != 2 or "only with --vcov or --plot" not in r.stderr:
    fail(f"--spill alone: exit {r.returncode} {r.stderr!r}")
# a failing fit draws nothing
r = run("fit", "y ~ x + g", bad, "--plot", p("f.png"))
if r.returncode != 3 or os.path.exists(p("f.png")):
    fail(f"a bad row without --skip-bad: exit {r.returncode}, picture left: {os.path.exists(p('f.png'))}")

shutil.rmtree(tmp)
finish()
