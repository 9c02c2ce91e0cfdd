import os
import signal
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit --vcov --spill DIR: standard input copied to a temporary file in DIR
# for the two passes: the same report as the file, DIR empty afterwards, on
# success, on an error and after SIGINT while reading. (cmd: unused.)
tmp = tempfile.mkdtemp()
spill = os.path.join(tmp, "spill")
os.mkdir(spill)
args = ["fit", "-y", "Employed", "--vcov", "HC3", "--format", "json"]
want = run(*args, "longley.csv")
with open("longley.csv") as f:
    got = run(*args, "--spill", spill, "-", stdin=f)
if want.returncode or got.returncode or got.stdout != want.stdout:
    fail(f"--spill: exit {got.returncode} {got.stderr}; report differs: {got.stdout != want.stdout}")
if os.listdir(spill):
    fail(f"--spill left {os.listdir(spill)}")
# an error in the second part of the run (a cluster column missing)
with open("longley.csv") as f:
    p = run("fit", "-y", "Employed", "--vcov", "cluster", "--cluster", "nope", "--spill", spill,
            "-", stdin=f)
if p.returncode != 3 or os.listdir(spill):
    fail(f"--spill error: exit {p.returncode}, left {os.listdir(spill)}")
# SIGINT while standard input is still open
proc = subprocess.Popen([CSVREG, *args, "--spill", spill, "-"], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
proc.stdin.write(open("longley.csv", "rb").read()[:200])
proc.stdin.flush()
for _ in range(100):
    if os.listdir(spill):
        break
    time.sleep(0.02)
if not os.listdir(spill):
    fail("--spill: no file while reading")
proc.send_signal(signal.SIGINT)
proc.wait(timeout=10)
proc.stdin.close()
if proc.returncode != -signal.SIGINT:
    fail(f"SIGINT: exit {proc.returncode}")
if os.listdir(spill):
    fail(f"SIGINT: --spill left {os.listdir(spill)}")
p = run(*args, "-", stdin=open("longley.csv"))
if p.returncode != 2 or "--spill DIR" not in p.stderr:
    fail(f"stdin without --spill: exit {p.returncode}: {p.stderr}")
finish()
