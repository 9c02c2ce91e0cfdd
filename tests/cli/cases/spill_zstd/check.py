"""fit --spill DIR (issue 13): standard input is copied to DIR compressed
with zstd when csvreg has zstd (--version says so), and the passes read the
copy back through the reader's decompression. Checked: --stats tells the
bytes read and written, and a compressible input takes under half its size;
the copy observed while the run is held open starts with zstd's magic; the
reports (--vcov HC1, --refine) equal the file's byte for byte (--threads 2:
to 1e-12, a file's ranges and a stream's blocks summing in other orders);
an input compressed already (gzip) and --decompress none are copied as they
are; DIR is empty after success, an error and SIGTERM while the copy is
read. (cmd: fit --help, unused.)"""
import gzip
import os
import random
import re
import json
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

tmp = tempfile.mkdtemp()
spill = os.path.join(tmp, "spill")
os.mkdir(spill)
data = os.path.join(tmp, "d.csv")
rng = random.Random(1313)
with open(data, "w") as f:
    f.write("x1,x2,g,y\n")
    for i in range(60000):
        a, b = round(rng.gauss(0, 1), 4), round(rng.uniform(0, 5), 3)
        f.write(f"{a},{b},g{i % 7},{round(1 + 2 * a - b + rng.gauss(0, 1 + abs(a)), 5)}\n")
raw = open(data, "rb").read()
has_zstd = ", zstd " in run("--version").stdout
print("zstd in this build:", has_zstd)
ARGS = ["fit", "y ~ x1 + x2 + g", "--format", "json"]


def stats_line(stderr):
    m = re.search(r"stats: spilled (\d+) bytes? of standard input as (\d+) \(([^)]*)\)", stderr)
    return (int(m.group(1)), int(m.group(2)), m.group(3)) if m else None


def spilled(extra, stdin_bytes, decompress=()):
    p = subprocess.run([CSVREG, *ARGS, *extra, *decompress, "--stats", "--spill", spill, "-"],
                       input=stdin_bytes, capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(), os.listdir(spill)


for extra in (["--vcov", "HC1"], ["--refine"], ["--vcov", "HC3", "--threads", "2",
                                                "--chunk-rows", "7"]):
    want = run(*ARGS, *extra, data)
    rc, out, err, left = spilled(extra, raw)
    st = stats_line(err)
    if "--threads" in extra and not rc and not want.returncode:
        # two threads read a file by ranges, a compressed copy by blocks:
        # other chunks, so the sums round apart (1e-12), as a pipe's would
        a, b = json.loads(want.stdout), json.loads(out)
        for x, y in zip(a["terms"], b["terms"]):
            for k in ("estimate", "std_error"):
                rel_close(y[k], x[k], 1e-12, f"{extra} {x['name']} {k}")
    elif rc or want.returncode or out.decode() != want.stdout:
        fail(f"{extra}: exit {rc}: {err}; the report differs from the file's: "
             f"{out.decode() != want.stdout}")
    if left:
        fail(f"{extra}: --spill left {left}")
    if not st or st[0] != len(raw):
        fail(f"{extra}: no --stats line of the spill, or not {len(raw)} bytes read: {err}")
        continue
    print(f"{extra}: spilled {st[0]} bytes as {st[1]} ({st[2]})")
    if has_zstd and (st[2] != "zstd" or not st[1] < st[0] / 2):
        fail(f"{extra}: the spill is not compressed: {st}")
    if not has_zstd and (st[2] != "as they are" or st[1] != st[0]):
        fail(f"{extra}: without zstd the spill is not a plain copy: {st}")

# the copy as it lies in DIR: held open (standard input not at its end yet),
# the file there starts with a zstd frame once a block is compressed
proc = subprocess.Popen([CSVREG, *ARGS, "--vcov", "HC1", "--spill", spill, "-"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
proc.stdin.write(raw[:len(raw) // 2])
proc.stdin.flush()
head = b""
for _ in range(500):
    names = os.listdir(spill)
    if names:
        head = open(os.path.join(spill, names[0]), "rb").read(4)
        if len(head) == 4:
            break
    time.sleep(0.01)
print("the spill file starts with", head.hex())
if has_zstd and head != b"\x28\xb5\x2f\xfd":
    fail(f"the spill file does not start with zstd's magic: {head!r}")
if not has_zstd and head != raw[:4]:
    fail(f"the spill file is not the input: {head!r}")
# SIGTERM now: the copy is removed
proc.send_signal(signal.SIGTERM)
proc.stdin.close()
proc.wait(timeout=30)
if proc.returncode != -signal.SIGTERM or os.listdir(spill):
    fail(f"SIGTERM: exit {proc.returncode}, left {os.listdir(spill)}")

# gzip on standard input: copied as it is (no zstd around gzip), read as gzip
gz = gzip.compress(raw, 1)
want = run(*ARGS, "--vcov", "HC1", data)
rc, out, err, left = spilled(["--vcov", "HC1"], gz)
st = stats_line(err)
if rc or out.decode() != want.stdout or left or not st or st[1:] != (len(gz), "as they are"):
    fail(f"gzip on stdin: exit {rc} {err}; stats {st}; left {left}")
# --decompress none: the bytes as they are, read as they are
rc, out, err, left = spilled(["--vcov", "HC1"], raw, ("--decompress", "none"))
st = stats_line(err)
if rc or out.decode() != want.stdout or left or not st or st[1:] != (len(raw), "as they are"):
    fail(f"--decompress none: exit {rc} {err}; stats {st}; left {left}")
# a data error in the second pass names the row as the file's does (the
# copy is decompressed to the same lines), and DIR is left empty
bad = raw + b"1.5,2,g1,oops\n"
p_file = os.path.join(tmp, "bad.csv")
open(p_file, "wb").write(bad)
rc, out, err, left = spilled(["--vcov", "HC1"], bad)
want = subprocess.run([CSVREG, *ARGS, "--vcov", "HC1", p_file], capture_output=True, text=True)
if rc != want.returncode or rc == 0 or left or ":60002: column 4 (y)" not in err or \
        err.split(":60002:")[1] != want.stderr.split(":60002:")[1]:
    fail(f"a bad row: exit {rc} (file {want.returncode}) {err!r} left {left}")
else:
    print("bad row:", err.strip().splitlines()[0])
finish()
