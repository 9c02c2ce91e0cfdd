# bad_stdout_closed_early: stdout closed by the reader (| head -1).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# `csvreg predict ... | head -1`: when the reader goes away, csvreg ends
# quietly as Unix filters do (SIGPIPE, default action): no "Broken pipe"
# message, no error status from the pipeline's point of view of head.
import subprocess
with tmpdir() as tmp:
    big = os.path.join(tmp, "big.csv")
    with open(big, "w") as f:
        f.write("y,x1,x2,x3\n")
        for i in range(200000):
            f.write(f"{i % 7},{i % 11},{i % 13},{i % 5}\n")
    for cmd in [f'"$CSVREG" predict -m model_gen.json "{big}" | head -1',
                f'"$CSVREG" predict -m model_gen.json --only "{big}" | head -c 10',
                f'"$CSVREG" fit -y y "{big}" | head -1']:
        p = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd + "; echo \"status=${PIPESTATUS[0]}\" >&2"],
                           env={**ENV, "CSVREG": CSVREG}, capture_output=True, text=True)
        status = p.stderr.strip().splitlines()[-1]
        noise = p.stderr.strip().splitlines()[:-1]
        if noise:
            fail(f"{cmd}: stderr noise {noise!r}")
        if status not in ("status=0", "status=141"):
            fail(f"{cmd}: csvreg ended with {status}")
        if not p.stdout:
            fail(f"{cmd}: nothing printed")
finish()
