"""csvreg__parse_dd (src/parse/numparse_dd.c) against mpmath: for decimals of
every shape the grammar takes (short and long significands, leading zeros,
exponents, signs, blanks, exact binary64 expansions), hi is the correctly
rounded double (Python's float(), as strtod) and hi + lo is the decimal's
value to 2^-102 of it (lo = 0 where the double is exact). Usage:
check_ddparse.py TOOL."""
import random
import subprocess
import sys
from decimal import Decimal

import mpmath
from mpmath import mp

mp.dps = 80
rng = random.Random(104)
cases = ["0", "-0", "1", "0.1", "-0.1", "0.3", "1e-5", "123456789012345678", "1.5e300",
         "2.5e-300", "9007199254740993", "0.000123", "  -12.3456 ", "+7.25", "1e22", "1e23",
         "12345678901234567890123456789012345678901234567890", "3.14159265358979323846264338327950",
         "1.00000", "1.11111", "-6.860120914", "0.8116", "x", "", "1.2.3", "1e", "."]
for _ in range(4000):
    k = rng.randint(1, 45)
    digits = "".join(rng.choice("0123456789") for _ in range(k))
    at = rng.randint(0, k)
    t = digits[:at] + ("." if at < k or rng.random() < 0.2 else "") + digits[at:]
    if t.startswith(".") and rng.random() < 0.5:
        t = "0" + t
    if rng.random() < 0.3:
        t += "e%d" % rng.randint(-40, 40)
    if rng.random() < 0.5:
        t = "-" + t
    cases.append(t)
for _ in range(1000):
    v = rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-12, 12)
    cases.append(format(Decimal(v), "f"))  # exact: lo must be 0
    cases.append("%.17g" % v)
    cases.append("%.6f" % v)
out = subprocess.run([sys.argv[1]], input="\n".join(cases) + "\n", capture_output=True,
                     text=True, check=True).stdout.splitlines()
bad = 0
for t, line in zip(cases, out):
    try:
        want = float(t.strip())
        ok = True
    except ValueError:
        ok = False
    if not ok or t.strip() in ("", "."):
        if line != "bad":
            print(f"{t!r}: expected bad, got {line}")
            bad += 1
        continue
    if line == "bad":
        print(f"{t!r}: refused")
        bad += 1
        continue
    hi, lo = (float.fromhex(x) for x in line.split())
    if hi != want:
        print(f"{t!r}: hi {hi!r}, float() {want!r}")
        bad += 1
    exact = mp.mpf(str(Decimal(t.strip())))
    got = mp.mpf(hi) + mp.mpf(lo)
    if exact == 0:
        err = abs(got)
    else:
        err = abs((got - exact) / exact)
    # lo = 0 is allowed (documented) at the range's ends
    far = exact != 0 and abs(mpmath.log10(abs(exact))) > 270
    if err > mp.mpf(2) ** -102 and not (far and lo == 0):
        print(f"{t!r}: hi {hi!r} lo {lo!r}: relative error {mpmath.nstr(err, 3)}")
        bad += 1
print(f"{len(cases)} decimals, {bad} wrong")
sys.exit(1 if bad else 0)
