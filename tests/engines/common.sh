# common.sh - sourced by the engine tests (issue 15): a temporary folder, csvreg
# on PATH, data, the recipes of docs/engines.md extracted as written, and a
# comparison with one pass. Usage in a test: . common.sh CSVREG DOCS_ENGINES_MD
# Every daemon a test starts is registered with `on_exit_kill PID` and is
# stopped on every exit path (normal end, failure, SIGINT/SIGTERM/HUP);
# `on_exit_run CMD` runs CMD before that (newest first).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CSVREG=$(readlink -f "$1")
DOCS=$(readlink -f "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/csvreg-engines.XXXXXX")
chmod 755 "$T"
PIDS=""
CLEANUP=""
on_exit_kill() { PIDS="$1 $PIDS"; }
on_exit_run() { CLEANUP="$1; $CLEANUP"; }
finish() {
  rc=$?
  trap - EXIT INT TERM HUP
  eval "$CLEANUP" || true
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $PIDS; do # wait up to 5 s each, then force
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  # A remote session still ending (its sshd child got TERM just above;
  # parallel --workdir does mkdir -p) may write into the folder while it is
  # removed: rm then fails with "Directory not empty" (CI, 2026-12-05, a
  # passing engines.ssh failed so). Try again for up to 5 s; a folder still
  # there after that is a leak and fails the test.
  for _ in $(seq 25); do
    rm -rf "$T" 2>/dev/null || true
    [ -e "$T" ] || break
    sleep 0.2
  done
  if [ -e "$T" ]; then
    echo "cleanup: $T could not be removed" >&2
    [ "$rc" != 0 ] || rc=1
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$T/bin" "$T/work"
ln -s "$CSVREG" "$T/bin/csvreg"
export PATH="$T/bin:$PATH"
export PARALLEL="--will-cite" # GNU parallel's citation notice, once per user
export OPENBLAS_NUM_THREADS=1 LC_ALL=C
cd "$T/work"

fail() { echo "FAIL: $*"; exit 1; }

# recipe NAME: the code block of docs/engines.md opened by ```sh recipe=NAME
# (or ```python recipe=NAME, any language word)
recipe() {
  awk -v name="$1" '/^```[a-z]* recipe=/ && substr($0, index($0, "=") + 1) == name {on = 1; n++; next}
    on && /^```$/ {on = 0; next}
    on {print}
    END {if (n != 1) {print "recipe " name " found " n " times" > "/dev/stderr"; exit 1}}' "$DOCS"
}

# gen FILE N SEED [bom] [crlf]: x1,x2,x3,y rows (no quoted newlines)
gen() {
  python3 - "$@" <<'PY'
import random, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
flags = sys.argv[4:]
nl = "\r\n" if "crlf" in flags else "\n"
r = random.Random(seed)
with open(path, "w", newline="", encoding="utf-8-sig" if "bom" in flags else "utf-8") as f:
    f.write("x1,x2,x3,y" + nl)
    for i in range(n):
        a, b, c = r.gauss(0, 1), r.gauss(5, 2), r.uniform(-1e3, 1e3)
        f.write("%r,%r,%r,%r%s" % (a, b, c, 1 + 2 * a - 0.5 * b + 1e-3 * c + r.gauss(0, 0.3), nl))
PY
}

# same REF.json OUT.json WHAT: every estimate and SE to 1e-11 relative, n equal
same() {
  python3 - "$@" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
if a["n"] != b["n"]:
    sys.exit("FAIL: %s: n %s != %s" % (sys.argv[3], a["n"], b["n"]))
worst = 0.0
for x, y in zip(a["terms"], b["terms"]):
    for k in ("estimate", "std_error"):
        if x[k] != y[k]:
            worst = max(worst, abs(x[k] - y[k]) / max(abs(x[k]), abs(y[k])))
print("%s: n %d, worst relative difference %.3g (tolerance 1e-11)" % (sys.argv[3], a["n"], worst))
if not worst <= 1e-11:
    sys.exit("FAIL: %s" % sys.argv[3])
PY
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
