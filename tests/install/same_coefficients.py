"""same_coefficients.py FIT_JSON EXAMPLE_OUTPUT: exit 0 when the example
printed the same terms, in the same order, with the same estimates (to the
bit: both run the library's one fit path) as `csvreg fit --format json`."""
import json
import sys

with open(sys.argv[1]) as f:
    want = [(t["name"], t["estimate"]) for t in json.load(f)["terms"]]
got = []
with open(sys.argv[2]) as f:
    for line in f:
        if not line.startswith("#"):
            name, value = line.rstrip("\n").split("\t")
            got.append((name, float(value)))
if got != want:
    print("csvreg fit:", want, "\nexample:  ", got, file=sys.stderr)
    sys.exit(1)
