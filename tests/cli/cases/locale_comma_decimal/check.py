# locale_comma_decimal: results must not change under a comma-decimal locale.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../hostile"))
from clicheck import *  # noqa: E402,F401,F403

# The process locale does not change anything: with LC_ALL=de_DE.UTF-8 (comma
# decimal separator; generated with localedef into a temporary LOCPATH) every
# command prints the same bytes as in the C locale, and "1,5" stays an error.
import subprocess
with tmpdir() as tmp:
    loc = os.path.join(tmp, "de_DE.UTF-8")
    r = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", loc], capture_output=True)
    if not os.path.isdir(loc):
        fail(f"localedef could not build de_DE.UTF-8: {r.stderr!r}")
    de = {**ENV, "LC_ALL": "de_DE.UTF-8", "LANG": "de_DE.UTF-8", "LOCPATH": tmp}
    # The locale is really in effect for a program that calls setlocale().
    p = subprocess.run(["/usr/bin/printf", "%.1f", "1,5"], env=de, capture_output=True, text=True)
    if p.stdout != "1,5":
        fail(f"the de_DE locale is not in effect: printf gave {p.stdout!r}")
    model = os.path.join(tmp, "m.json")
    runs = [
        ["fit", "-y", "Employed", "longley.csv"],
        ["fit", "-y", "Employed", "longley.csv", "--format", "json"],
        ["fit", "-y", "Employed", "longley.csv", "--format", "csv", "--solver", "normal"],
        ["fit", "-y", "y", "-x", "x1,x2", "-w", "w", "weights.csv", "--format", "json"],
        ["fit", "-y", "y", "-x", "x1,x2", "small.csv", "--holdout", "0.3"],
        ["predict", "-m", "model_small.json", "--interval", "prediction", "small.csv"],
        ["eval", "-m", "model_small.json", "small.csv"],
        ["fit", "-y", "y", "-x", "x1,x2", "bad.csv"],
    ]
    for args in runs:
        c = run(args)
        d = run(args, env=de)
        if c != d:
            fail(f"{' '.join(args)}: output differs in de_DE: {c!r} vs {d!r}")
        if args[0] == "fit" and c[0] == 0 and b"," in c[1].split(b"\n")[0] and "json" in args:
            fail("a comma in JSON numbers")
    c = run(["fit", "-y", "y", "-", "-o", model], b"y,x\n1,1\n2,3\n3,4\n4,4.5\n5,7\n")
    m1 = open(model, "rb").read()
    d = run(["fit", "-y", "y", "-", "-o", model], b"y,x\n1,1\n2,3\n3,4\n4,4.5\n5,7\n", env=de)
    if c != d or open(model, "rb").read() != m1:
        fail("the model file differs in de_DE")
    expect("1,5 in de_DE", run(["fit", "-y", "y", "-"], b"y,x\n\"1,5\",1\n", env=de), 3,
           'csvreg: <stdin>:2: column 1 (y): expected a number, found "1,5"\n')
finish()
