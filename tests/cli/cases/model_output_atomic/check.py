import glob
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# fit -o writes the model atomically: a failed write (a file-size limit
# standing in for a full disk) or a signal while fit runs leaves the old model
# as it was and no temporary file behind; a good run replaces it whole.
# (The cmd of this case is the unwritable-directory failure.)
if os.path.getsize(sys.argv[1]) != 0:
    fail("a report was printed although the model could not be written")

with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "m.json")
    r = run("fit", "-y", "y", "-x", "x1,x2", "small.csv", "-o", model)
    if r.returncode != 0 or "Coefficients:" not in r.stdout:
        fail(f"first fit: {r.returncode} {r.stderr}")
    old = open(model, "rb").read()

    def leftovers():
        return [p for p in glob.glob(os.path.join(tmp, ".*")) if "tmp" in p]

    # Disk full: the model (several KB) cannot grow past 1 KB.
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    r = subprocess.run([CSVREG, "fit", "-y", "y", "-x", "x1,x2,x3", "model_gen.csv", "-o", model],
                       capture_output=True, text=True, preexec_fn=limit)
    if r.returncode != 4 or "cannot write" not in r.stderr or "File too large" not in r.stderr:
        fail(f"size-limited fit: exit {r.returncode}, stderr {r.stderr!r}")
    if r.stdout:
        fail("size-limited fit printed a report")
    if open(model, "rb").read() != old:
        fail("the old model changed after a failed write")
    if leftovers():
        fail(f"temporary files left: {leftovers()}")

    # Signals while fit reads a pipe that stays open.
    for sig in (signal.SIGINT, signal.SIGTERM):
        p = subprocess.Popen([CSVREG, "fit", "-y", "y", "-x", "x1,x2,x3", "-", "-o", model],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdin.write(open("model_gen.csv", "rb").read())
        p.stdin.flush()
        time.sleep(0.3)
        p.send_signal(sig)
        p.wait(timeout=10)
        p.stdin.close()
        p.stdout.close()
        p.stderr.close()
        if p.returncode != -sig:
            fail(f"signal {sig}: exit {p.returncode}")
        if open(model, "rb").read() != old:
            fail(f"signal {sig}: the old model changed")
        if leftovers():
            fail(f"signal {sig}: temporary files left: {leftovers()}")

    # A good run replaces the model whole; it loads and predicts.
    r = run("fit", "-y", "y", "-x", "x1,x2,x3", "model_gen.csv", "-o", model, "--format", "csv")
    if r.returncode != 0 or open(model, "rb").read() == old or leftovers():
        fail(f"second fit: {r.returncode} {r.stderr}")
    r = run("predict", "-m", model, "--only", "model_new.csv")
    if r.returncode != 0 or len(r.stdout.splitlines()) != 61:
        fail(f"predict with the new model: {r.returncode} {r.stderr}")
finish()
