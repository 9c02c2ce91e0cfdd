# bad_field_10mb: a 10 MB field, unused (ignored) and used (refused or parsed exactly).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# A 10 MB quoted field in an unused column is read and ignored; in a used
# column a 10 MB number is refused with the text cut to 40 bytes.
big = b"a" * 10_000_000
data = b"y,x,t\n1,1,a\n2,3,\"" + big + b"\"\n3,4,b\n4,4.5,c\n5,7,d\n"
clean = b"y,x,t\n1,1,a\n2,3,z\n3,4,b\n4,4.5,c\n5,7,d\n"
want = run(["fit", "-y", "y", "-x", "x", "-", "--format", "csv"], clean)
expect("10 MB text field", run(["fit", "-y", "y", "-x", "x", "-", "--format", "csv"], data), 0, "", want[1])
data = b"y,x\n1,1\n2,\"" + b"1" * 10_000_000 + b"\"\n"
expect("10 MB number", run(["fit", "-y", "y", "-", "--format", "csv"], data), 3,
       'csvreg: <stdin>:3: column 2 (x): expected a number, found "' + "1" * 40 + '..."\n')
data = b"y,x\n1,1\n2,0." + b"1" * 10_000_000 + b"\n3,4\n4,4.5\n5,7\n"
alt = b"y,x\n1,1\n2,0.11111111111111111111111\n3,4\n4,4.5\n5,7\n"
want = run(["fit", "-y", "y", "-", "--format", "csv"], alt)
expect("10 MB of digits, rounded correctly", run(["fit", "-y", "y", "-", "--format", "csv"], data), 0, "", want[1])
finish()
