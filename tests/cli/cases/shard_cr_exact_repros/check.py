import json
import os
import shutil
import sys
import tempfile
sys.path.insert(0, "..")
from modelcheck import *  # noqa: E402,F401,F403

# Issue 17 item 1's exact reproductions, deterministic (shard.readpaths draws
# such files at random): a header ended by a lone CR before LF records, an
# all-CR stream, a CR-only file of new rows for --update, and a BOM then a
# blank line then the header. Every read path finds the 4 records the plain
# fit finds. (stdout: fit --help, unused.)
tmp = tempfile.mkdtemp()


def write(name, data):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def records_json(args, stdin=None, what=""):
    p = subprocess_run(args, stdin)
    if p.returncode:
        fail(f"{what}: exit {p.returncode} {p.stderr!r}")
        return None
    return json.loads(p.stdout)


def subprocess_run(args, stdin):
    import subprocess
    return subprocess.run([CSVREG] + args, input=stdin or b"", capture_output=True)


def n_of(args, stdin=None, what=""):
    j = records_json(args + ["--format", "json"], stdin, what)
    return None if j is None else (j["n"], j["n_read"])


def state_records(args, stdin=None, what=""):
    j = records_json(args, stdin, what)
    return None if j is None else (j["counts"]["used"], j["counts"]["records"])


def solve_n(states, what):
    p = subprocess_run(["solve", "--format", "json", "-"], b"".join(states))
    if p.returncode:
        fail(f"{what}: solve exit {p.returncode} {p.stderr!r}")
        return None
    j = json.loads(p.stdout)
    return (j["n"], j["n_read"])


files = {
    "CR header, LF rows": b"y,x\r1,2\n2,3.5\n3,4\n4,6\n",
    "all CR": b"y,x\r1,2\r2,3.5\r3,4\r4,6\r",
    "BOM, blank line, header": b"\xef\xbb\xbf\ny,x\n1,2\n2,3.5\n3,4\n4,6\n",
    "BOM, blank CR line, CR": b"\xef\xbb\xbf\ry,x\r1,2\r2,3.5\r3,4\r4,6\r",
}
for what, data in files.items():
    p = write("f.csv", data)
    want = (4, 4)
    got = {
        "plain": n_of(["fit", "-y", "y", p], what=what),
        "stdin": n_of(["fit", "-y", "y", "-"], data, what),
        "--threads 2": n_of(["fit", "-y", "y", "--threads", "2", p], what=what),
        "--threads 2 stdin": n_of(["fit", "-y", "y", "--threads", "2", "-"], data, what),
        "--emit-state file": state_records(["fit", "-y", "y", "--emit-state", p], what=what),
        "--emit-state stdin": state_records(["fit", "-y", "y", "--emit-state", "-"], data, what),
    }
    parts = []
    for i in (1, 2, 3):
        q = subprocess_run(["fit", "-y", "y", "--emit-state", "--range", f"{i}/3", p], None)
        if q.returncode:
            fail(f"{what}: --range {i}/3: exit {q.returncode} {q.stderr!r}")
        parts.append(q.stdout)
    got["--range i/3 solved"] = solve_n(parts, what)
    for k, v in got.items():
        if v != want:
            fail(f"{what}: {k}: (used, read) = {v}, want {want}")
    print(f"{what}: {len(got)} read paths, 4 records each" if all(v == want for v in got.values())
          else f"{what}: differences")

# --update: a model of 3 rows, then a CR-only file of 2 new rows (and one
# with a BOM and a blank line first): 5 rows used, as a fit of all 5
old = write("old.csv", b"y,x\n1,2\n2,3.5\n3,4.1\n")
model = os.path.join(tmp, "m.json")
if subprocess_run(["fit", "-y", "y", old, "-o", model, "--quiet"], None).returncode:
    fail("fit -o")
allrows = write("all.csv", b"y,x\n1,2\n2,3.5\n3,4.1\n5,6\n6,8.2\n")
ref = records_json(["fit", "-y", "y", "--format", "json", allrows], None, "all rows")
for what, new in [("CR-only new rows", b"y,x\r5,6\r6,8.2\r"),
                  ("BOM, blank line, CR new rows", b"\xef\xbb\xbf\r\ny,x\r5,6\r6,8.2\r")]:
    p = write("new.csv", new)
    for src, stdin in [([p], None), (["-"], new)]:
        j = records_json(["fit", "--update", model, "--format", "json"] + src, stdin, what)
        if j is None:
            continue
        if (j["n"], j["n_read"]) != (5, 5):
            fail(f"{what} {src}: --update used {j['n']} of {j['n_read']}, want 5 of 5")
        elif ref:
            for a, b in zip(j["terms"], ref["terms"]):
                rel_close(a["estimate"], b["estimate"], 1e-12, f"{what} {src}: {a['name']}")
shutil.rmtree(tmp)
finish()
