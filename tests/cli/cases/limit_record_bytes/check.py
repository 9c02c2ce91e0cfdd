# limit_record_bytes: past the longest record (64 MiB) a clear error, not an allocation failure.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# A record longer than CSVREG_DEFAULT_MAX_RECORD (64 MiB) is refused (exit 3,
# CSVREG_E_LIMIT) before it is held whole, whether it is quoted or not.
big = b"a" * (64 * 1024 * 1024 + 1)
expect("65 MB quoted field", run(["fit", "-y", "y", "-x", "x", "-"], b"y,x,t\n1,1,a\n2,3,\"" + big + b"\"\n"),
       3, "csvreg: <stdin>:3: record starting on line 3 is longer than 67108864 bytes\n")
expect("65 MB unquoted field", run(["fit", "-y", "y", "-x", "x", "-"], b"y,x,t\n1,1,a\n2,3," + big + b"\n"),
       3, "csvreg: <stdin>:3: record starting on line 3 is longer than 67108864 bytes\n")
expect("65 MB header", run(["fit", "-y", "y", "-"], b"y,x," + big + b"\n1,2,3\n"),
       3, "csvreg: <stdin>:1: record starting on line 1 is longer than 67108864 bytes\n")
finish()
