# limit_columns: the widest record (CSVREG_MAX_FIELDS).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# CSVREG_MAX_FIELDS = 2^20 fields: exactly that many is read, one more is
# refused (exit 3, CSVREG_E_LIMIT) in the header and in a data row.
n = 1 << 20
names = b",".join(b"c%d" % i for i in range(n))
ones = b",".join([b"1"] * n)
code, out, err = run(["fit", "-y", "c0", "-x", "c1", "-", "--format", "csv"],
                     names + b"\n" + ones + b"\n" + b"2," + b",".join([b"3"] * (n - 1)) + b"\n" + ones + b"\n")
if code != 0 or not out.startswith(b"term,"):
    fail(f"2^20 columns: exit {code}, {err!r}")
expect("2^20 + 1 columns", run(["fit", "-y", "c0", "-x", "c1", "-"], names + b",z\n"), 3,
       "csvreg: <stdin>:1: record starting on line 1 has more than 1048576 fields\n")
expect("a data row of 2^20 + 1 fields", run(["fit", "-y", "c0", "-x", "c1", "-"], names + b"\n" + ones + b",1\n"), 3,
       "csvreg: <stdin>:2: record starting on line 2 has more than 1048576 fields\n")
finish()
