import json
import os
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Issue 17 item 2 asks for every count addition to be checked for overflow
# (exit 3); merge_counter_overflow_* test merge. Here `fit --update`: a
# model whose state (checksum recomputed) holds 2^63 - 2 records and used
# rows, updated with 2 rows, must stop with exit 3 naming the model file
# and the counter overflow, write no -o file and print no report; with 1
# new row (2^63 - 1, the largest count) it succeeds. predict still reads
# the model. (stdout: fit --help, unused.)
tmp = tempfile.mkdtemp()
base = os.path.join(tmp, "base.csv")
open(base, "w").write("y,x\n1,2\n2,3.5\n3,4.1\n")
model = os.path.join(tmp, "m.json")
if run("fit", "-y", "y", base, "-o", model, "--quiet").returncode:
    fail("fit -o")
    finish()


def near_max(k):
    def change(m):
        big = Raw(str(2 ** 63 - 1 - k))
        m["state"]["counts"]["records"] = big
        m["state"]["counts"]["used"] = big
        m["fit"]["n"] = big
        m["fit"]["n_read"] = big
        for f in m.get("folded") or []:
            f["records"] = big
    return change


big = resealed(model, near_max(1), os.path.join(tmp, "big.json"))
p = run("predict", "-m", big, base)
if p.returncode:
    fail(f"predict with the forged counts: exit {p.returncode} {p.stderr!r}")

two = os.path.join(tmp, "two.csv")
open(two, "w").write("y,x\n5,6\n6,8.2\n")
out = os.path.join(tmp, "u.json")
p = run("fit", "--update", big, two, "-o", out, "--format", "json")
# the message names the model file, as other model-file errors do
want = (f"csvreg: {big}: counter overflow: the merged states would hold more than 2^63 - 1 "
        f"records ({2 ** 63 - 2} + 2)\n")
if p.returncode != 3 or p.stderr != want:
    fail(f"--update past 2^63 - 1: exit {p.returncode} {p.stderr!r}, want 3 and {want!r}")
if p.stdout:
    fail(f"--update past 2^63 - 1 printed a report: {p.stdout[:200]!r}")
if os.path.exists(out) or [f for f in os.listdir(tmp) if f.startswith(".u.json")]:
    fail("--update past 2^63 - 1 left an output file")

one = os.path.join(tmp, "one.csv")
open(one, "w").write("y,x\n5,6\n")
p = run("fit", "--update", big, one, "-o", out, "--format", "json")
if p.returncode:
    fail(f"--update to exactly 2^63 - 1: exit {p.returncode} {p.stderr!r}")
else:
    j = json.loads(p.stdout)
    if j["n_read"] != 2 ** 63 - 1:
        fail(f"--update to exactly 2^63 - 1: n_read {j['n_read']}")
    counts = json.load(open(out))["state"]["counts"]
    if counts["records"] != 2 ** 63 - 1:
        fail(f"saved records {counts['records']}")
shutil.rmtree(tmp)
finish()
