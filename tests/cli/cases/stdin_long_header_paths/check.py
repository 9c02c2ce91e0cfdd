import os
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Issue 17 item 10: the header of a stream was read one byte per read() in
# the shard paths (read_first_line: 11 s for a 10 MB header on standard
# input, 83 s on /dev/zero). A 30 MB one-line header from a pipe (no
# column y) through plain, --emit-state, --threads 2 and --update: each ends
# with exit 3 naming the missing column in under 12 s of CPU (0.3-0.7 s in a
# Release build, 2-5 s under ASan; a read() per byte is 30 million system
# calls, about 30 s). (stdout: fit --help, unused.)
tmp = tempfile.mkdtemp()
model = "model_small.json"  # tests/cli/data: features x1, x2
head = os.path.join(tmp, "head.csv")
with open(head, "wb") as f:
    f.write(b"a" * 30_000_000 + b"\n1\n")
cases = [(["fit", "-y", "y", "-"], "no target column named 'y'"),
         (["fit", "-y", "y", "--emit-state", "-"], "no target column named 'y'"),
         (["fit", "-y", "y", "--threads", "2", "-"], "no target column named 'y'"),
         (["fit", "--update", model, "-"], "no feature column named 'x1'")]
for args, want in cases:
    # through a pipe (cat), so that the reader cannot see a regular file; the
    # bound is on the program's CPU time (user + sys, from wait4), which a
    # loaded machine does not inflate as it does wall time
    errf = os.path.join(tmp, "err.txt")
    t0 = time.monotonic()
    cat = subprocess.Popen(["cat", head], stdout=subprocess.PIPE)
    with open(errf, "wb") as e:
        prog = subprocess.Popen([CSVREG] + args, stdin=cat.stdout, stdout=subprocess.DEVNULL,
                                stderr=e)
    cat.stdout.close()
    _, status, ru = os.wait4(prog.pid, 0)
    prog.returncode = os.waitstatus_to_exitcode(status)
    cat.wait()
    took, cpu = time.monotonic() - t0, ru.ru_utime + ru.ru_stime
    err = open(errf, encoding="utf-8", errors="replace").read()
    if prog.returncode != 3 or want not in err:
        fail(f"{args}: exit {prog.returncode} {err[:300]!r}, want 3 and {want!r}")
    if cpu > 12:
        fail(f"{args}: {cpu:.1f} s of CPU for a 30 MB header (a byte per read?)")
    print(f"{' '.join(args)}: exit {prog.returncode}, {cpu:.2f} s CPU, {took:.2f} s wall")
shutil.rmtree(tmp)
finish()
