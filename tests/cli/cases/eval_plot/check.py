"""eval --plot: the PNG's size (its IHDR), the SVG parses, the PDF is one;
the bins (eval --format json --plot) sum to n on every path and equal a
Python binning of predict's predictions exactly; usage and output errors."""
import json
import math
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


def plot_json(path, *extra):
    r = run("eval", "-m", "model_gen.json", path, "--format", "json", "--plot",
            os.path.join(tmp, "p.png"), *extra)
    if r.returncode != 0:
        fail(f"{path} {extra}: exit {r.returncode}: {r.stderr}")
        return None
    return json.loads(r.stdout)


def check_sums(j, what):
    for name in ("actual", "residual", "histogram"):
        g = j["plot"][name]
        s = sum(sum(row) for row in g["counts"])
        if s != j["n"] or g["total"] != j["n"]:
            fail(f"{what}: {name} bins sum to {s}, total {g['total']}, n {j['n']}")
        if len(g["counts"]) != g["ny"] or any(len(r) != g["nx"] for r in g["counts"]):
            fail(f"{what}: {name} shape")
        # the grid is trimmed to the bins in use
        if not any(g["counts"][0]) or not any(g["counts"][-1]):
            fail(f"{what}: {name}: an empty first or last row")
        if not any(r[0] for r in g["counts"]) or not any(r[-1] for r in g["counts"]):
            fail(f"{what}: {name}: an empty first or last column")


def check_bins(j, path, what):
    """Each grid against the rows binned in Python (bins of a power-of-two
    width, so the arithmetic is exact)."""
    pred = read_csv(run("predict", "-m", "model_gen.json", path).stdout, text=True)
    yi, pi = pred[0].index("y"), pred[0].index("prediction")
    pts = []
    for r in pred[1:]:
        try:
            pts.append((float(r[yi]), float(r[pi])))
        except ValueError:
            pass
    for name, fx, fy in (("actual", lambda y, p: p, lambda y, p: y),
                         ("residual", lambda y, p: p, lambda y, p: y - p),
                         ("histogram", lambda y, p: y - p, None)):
        g = j["plot"][name]
        want = [[0] * g["nx"] for _ in range(g["ny"])]
        ix0 = round(g["x0"] / g["dx"])
        iy0 = round(g["y0"] / g["dy"]) if fy else 0
        for y, p in pts:
            i = math.floor(fx(y, p) / g["dx"]) - ix0
            k = math.floor(fy(y, p) / g["dy"]) - iy0 if fy else 0
            if not (0 <= i < g["nx"] and 0 <= k < g["ny"]):
                fail(f"{what}: {name}: a row outside the grid")
                return
            want[k][i] += 1
        if want != g["counts"]:
            fail(f"{what}: {name}: bins differ from Python's")


# a larger input: a trend (values arrive in increasing order: the grid
# widens many times), noise, an outlier and a run of NA rows
rng = random.Random(7)
big = os.path.join(tmp, "big.csv")
with open(big, "w") as f:
    f.write("x1,x2,x3,y\n")
    for i in range(20000):
        x1 = i / 100
        x2, x3 = rng.gauss(0, 1), rng.uniform(0, 100)
        y = 1 + 0.8 * x1 + 2 * x2 + 0.03 * x3 + rng.gauss(0, 1 + i / 5000)
        if i == 12345:
            y = 1e6
        f.write(f"{x1},{x2:.6f},{x3:.4f},{'NA' if 500 <= i < 510 else repr(y)}\n")

for path in ("model_new.csv", big):
    j = plot_json(path)
    if not j:
        continue
    check_sums(j, path)
    check_bins(j, path, path)
    for extra in (["--threads", "2"], ["--chunk-rows", "1"], ["--threads", "2", "--chunk-rows", "7"]):
        j2 = plot_json(path, *extra)
        if j2:
            check_sums(j2, f"{path} {extra}")
            check_bins(j2, path, f"{path} {extra}")

# the files: PNG size, SVG parses, PDF
for ext in ("png", "svg", "pdf", "PNG"):
    out = os.path.join(tmp, "e." + ext)
    r = run("eval", "-m", "model_gen.json", big, "--plot", out)
    if r.returncode != 0 or r.stderr:
        fail(f".{ext}: exit {r.returncode} {r.stderr}")
        continue
    if "Evaluation of the model of y on 19990 rows" not in r.stdout:
        fail(f".{ext}: the report: {r.stdout}")
    data = open(out, "rb").read()
    if ext.lower() == "png":
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            fail(".png: not a PNG")
        elif struct.unpack(">II", data[16:24]) != (1000, 800):
            fail(f".png: size {struct.unpack('>II', data[16:24])}")
    elif ext == "svg":
        root = ET.fromstring(data)
        if not root.tag.endswith("svg") or root.get("width") not in ("1000", "1000pt"):
            fail(f".svg: root {root.tag} {root.attrib}")
        if len(data) > 400000:
            fail(f".svg: {len(data)} bytes")
    else:
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-32:]:
            fail(".pdf: not a PDF")
if sorted(os.listdir(tmp)) != ["big.csv", "e.PNG", "e.pdf", "e.png", "e.svg", "p.png"]:
    fail(f"files left: {os.listdir(tmp)}")

# errors: a name without a known extension (before reading), a directory
# that does not exist (exit 4, after the report), no rows
for name in ("plot", "plot.jpg", "dir.png/x", ".png.txt"):
    r = run("eval", "-m", "model_gen.json", "no_such.csv", "--plot", name)
    if r.returncode != 2 or "--plot: expected a file name ending in .png, .svg or .pdf" not in r.stderr:
        fail(f"--plot {name}: exit {r.returncode} {r.stderr}")
r = run("eval", "-m", "model_gen.json", "model_new.csv", "--plot", os.path.join(tmp, "no", "x.svg"))
if r.returncode != 4 or "cannot create" not in r.stderr or "rmse" not in r.stdout:
    fail(f"unwritable: exit {r.returncode} {r.stderr}")
shutil.rmtree(tmp)
finish()
