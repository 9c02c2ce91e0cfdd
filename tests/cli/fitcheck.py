"""Helpers for the check.py files of CLI cases: read csvreg's JSON or CSV
output and compare it with reference values (R's lm at %.17g, or NIST StRD
certified values) within a stated relative tolerance.

A check.py runs as `python3 check.py STDOUT_FILE` from tests/cli/data, with
CSVREG in the environment (the program under test)."""
import csv
import json
import math
import os
import re
import struct
import subprocess
import sys

# NIST StRD Longley certified values (coefficients, standard deviations).
LONGLEY_NIST = [
    ("(Intercept)", -3482258.63459582, 890420.383607373),
    ("GNP.deflator", 15.0618722713733, 84.9149257747669),
    ("GNP", -0.358191792925910e-01, 0.334910077722432e-01),
    ("Unemployed", -2.02022980381683, 0.488399681651699),
    ("Armed.Forces", -1.03322686717359, 0.214274163161675),
    ("Population", -0.511041056535807e-01, 0.226073200069370),
    ("Year", 1829.15146461355, 455.478499142212),
]
LONGLEY_RESIDUAL_SD = 304.854073561965
LONGLEY_R2 = 0.995479004577296

FIELDS = ("estimate", "std_error", "t_value", "p_value", "ci_lower", "ci_upper")
failures = []


def fail(msg):
    failures.append(msg)


def finish():
    for m in failures:
        print("check.py: " + m)
    sys.exit(1 if failures else 0)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, json.loads(text)


def load_csv(path):
    """The --format csv table as {term: {field: float or None, 'aliased': bool}}."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if rows[0] != ["term"] + list(FIELDS) + ["aliased"]:
        fail("bad CSV header: %r" % rows[0])
    out = {}
    for r in rows[1:]:
        d = {k: (None if v == "NA" else float(v)) for k, v in zip(FIELDS, r[1:7])}
        d["aliased"] = {"true": True, "false": False}[r[7]]
        out[r[0]] = d
    return out


def close(name, got, want, rtol):
    """|got - want| <= rtol * |want| (absolute when want is 0); None means NA."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        if got is not None:
            fail("%s: got %r, expected NA/null" % (name, got))
        return
    if got is None:
        fail("%s: got NA/null, expected %r" % (name, want))
        return
    err = abs(got - want)
    if err > rtol * abs(want) and not (want == 0 and err <= rtol):
        fail("%s: got %.17g, expected %.17g (relative error %.3g > %.3g)"
             % (name, got, want, err / abs(want) if want else err, rtol))


def check_terms(terms, ref, rtol, fields=FIELDS):
    """terms: {name: {field: value}}; ref: [(name, v1, v2, ...)] in FIELDS order."""
    if list(terms) != [r[0] for r in ref]:
        fail("terms %r, expected %r" % (list(terms), [r[0] for r in ref]))
        return
    for r in ref:
        for k, want in zip(fields, r[1:]):
            close("%s.%s" % (r[0], k), terms[r[0]][k], want, rtol)


def json_terms(doc):
    return {t["name"]: t for t in doc["terms"]}


def check_real_tokens(text):
    """Every real number in the JSON text is written with 17 significant
    digits (jansson's JSON_REAL_PRECISION(17)), so it reads back to the same
    double: reformatting float(token) with %.17g gives the token back."""
    n = 0
    for tok in re.findall(r'(?<=: )-?\d[\d.eE+-]*(?=,?\n)', text):
        if not re.search(r"[.eE]", tok):
            continue  # integers: counts
        n += 1
        again = "%.17g" % float(tok)
        if "." not in again and "e" not in again:
            again += ".0"
        if again != tok:
            fail("real %s is not written at %%.17g (%s)" % (tok, again))
    return n


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def run_csvreg(*args):
    exe = os.environ["CSVREG"]
    return subprocess.run([exe] + list(args), check=True, capture_output=True,
                          text=True).stdout
