# bad_line_10mb: a 10 MB record (a million narrow fields) is read; only x and y are converted.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# A 10 MB line: 1,000,000 unused fields of 9 bytes beside the two used ones.
n = 1_000_000
header = b"y,x," + b",".join(b"c%07d" % i for i in range(n)) + b"\n"
row = lambda y, x: (b"%s,%s," % (y, x)) + b",".join([b"abcdefgh"] * n) + b"\n"
data = header + row(b"1", b"1") + row(b"2", b"3") + row(b"3", b"4") + row(b"4", b"4.5") + row(b"5", b"7")
if len(row(b"1", b"1")) < 9_000_000:
    fail("the line is not ~10 MB")
want = run(["fit", "-y", "y", "-", "--format", "csv"], b"y,x\n1,1\n2,3\n3,4\n4,4.5\n5,7\n")
expect("10 MB line", run(["fit", "-y", "y", "-x", "x", "-", "--format", "csv"], data), 0, "", want[1])
finish()
