"""Helpers for the bad_/limit_/signal_/locale_ CLI cases whose input is generated
at run time (check.py files; run from tests/cli/data with CSVREG set).
Generated inputs go to a temporary directory, never into the source tree."""
import os
import subprocess
import sys
import tempfile

CSVREG = os.environ.get("CSVREG", "csvreg")
ENV = {**os.environ, "LC_ALL": "C", "OPENBLAS_NUM_THREADS": "1"}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="csvreg-hostile-")


def run(args, stdin=None, env=None, **kw):
    """Runs csvreg with bytes on stdin; returns (exit, stdout bytes, stderr text)."""
    r = subprocess.run([CSVREG, *args], input=stdin, capture_output=True, env=env or ENV, **kw)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


def expect(what, got, want_exit, want_stderr, want_stdout=None):
    code, out, err = got
    if code != want_exit:
        fail(f"{what}: exit {code}, expected {want_exit} (stderr {err!r})")
    if err != want_stderr:
        fail(f"{what}: stderr {err!r}, expected {want_stderr!r}")
    if want_stdout is not None and out != want_stdout:
        fail(f"{what}: stdout differs: {out[:300]!r}")


def same_output_as(what, stdout_path, args, canonical):
    """The case's stdout (the odd input's) must be byte for byte what the same
    command prints for `canonical`, the input written plainly: the odd forms
    must parse to the same doubles. Robust to the last digits of the fit,
    which depend on the BLAS and on which QR update the CPU runs."""
    with open(stdout_path, "rb") as f:
        got = f.read()
    code, want, err = run(args, canonical)
    if code != 0 or err:
        fail(f"{what}: canonical input: exit {code}, stderr {err!r}")
    elif got != want:
        fail(f"{what}: stdout differs from the canonical input's:\n{got.decode()}\n{want.decode()}")


def finish():
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    sys.exit(0)
