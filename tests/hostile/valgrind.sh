#!/bin/sh
# valgrind.sh BUILD_DIR - valgrind memcheck over the cmocka unit tests and a
# representative set of CLI runs (fit in every format and solver, weights, NA,
# --skip-bad, holdout/cv, -o, predict, eval, and the error paths: bad CSV,
# bad numbers, bad model files, limits). Fails (exit 1) on any invalid read or
# write, use of uninitialised memory or leak (--error-exitcode=99).
# Use a build without sanitizers (e.g. -DCMAKE_BUILD_TYPE=Debug).
set -u
build=${1:?usage: valgrind.sh BUILD_DIR}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
data="$here/../cli/data"
csvreg="$build/csvreg"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
export OPENBLAS_NUM_THREADS=1 LC_ALL=C
vg="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99"
# Unit tests slower than `limit` seconds under valgrind fail; VALGRIND_SKIP is
# a shell pattern of test names to leave out (reader_test_reader* build records
# of 2^20 fields and 3,000,000-field streams many times over: more than 15
# minutes under valgrind; the reader's own ASan run covers them).
limit=${VALGRIND_TIMEOUT:-600}
skip=${VALGRIND_SKIP:-reader_test_reader*}
failed=0
ran=0
start=$(date +%s)

check() { # check EXPECTED_EXIT CMD... (run from DATA)
  want=$1
  shift
  ran=$((ran + 1))
  (cd "$data" && $vg "$@" >"$tmp/out" 2>"$tmp/err" <"${STDIN:-/dev/null}")
  got=$?
  if [ "$got" = 99 ] || [ "$got" != "$want" ]; then
    echo "FAIL ($got, expected $want): $*"
    grep -E "==[0-9]+==" "$tmp/err" | head -30
    failed=$((failed + 1))
  fi
}

# The cmocka unit tests, each with its command, working directory and
# environment as ctest runs it (from ctest's JSON listing); not the CLI cases
# (their runs follow) nor the long verification tools.
ctest --test-dir "$build" --show-only=json-v1 >"$tmp/tests.json" 2>/dev/null
"${PYTHON:-/usr/bin/python3}" - "$tmp/tests.json" >"$tmp/unit.sh" <<'PY'
import json, shlex, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    cmd = t.get("command") or ["sh"]
    # Compiled unit tests only: script tests (sh, python) run the CLI, whose
    # runs below go through valgrind.
    if t["name"].startswith("cli.") or "verify" in t["name"] or "bench" in t["name"] \
            or cmd[0].split("/")[-1].startswith(("sh", "bash", "python")):
        continue
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = " ".join(shlex.quote(e) for e in props.get("ENVIRONMENT", []))
    wd = props.get("WORKING_DIRECTORY", ".")
    print(f"unit {shlex.quote(t['name'])} {shlex.quote(wd)} {env} -- "
          + " ".join(shlex.quote(c) for c in t["command"]))
PY
while IFS= read -r line; do
  ran=$((ran + 1))
  eval "set -- ${line#unit }"
  name=$1 dir=$2
  shift 2
  envs=""
  while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
  shift
  # numerics_blas_gate_stress: 400 forked rounds of six threads under an
  # address-space cap; valgrind runs the threads one at a time and its own
  # mappings change what the cap leaves: in CI on 2026-12-06 it had run 9
  # minutes unfinished when stopped. The Release and ASan+UBSan suites run it.
  case $name in $skip | numerics_blas_gate_stress) echo "skipped: $name"; continue ;; esac
  # shellcheck disable=SC2086
  (cd "$dir" && env $envs timeout "$limit" $vg "$@" >"$tmp/out" 2>"$tmp/err")
  rc=$?
  [ $rc = 124 ] && echo "timeout after $limit s: $name"
  if [ $rc != 0 ]; then
    echo "FAIL ($rc): $name"
    grep -E "==[0-9]+==|FAIL|ERROR" "$tmp/err" "$tmp/out" | head -30
    failed=$((failed + 1))
  fi
done <"$tmp/unit.sh"

m="$tmp/m.json"
check 0 "$csvreg" fit -y Employed longley.csv
check 0 "$csvreg" fit -y Employed longley.csv --format json --solver normal
check 0 "$csvreg" fit -y Employed longley.csv --format csv --chunk-rows 1
check 0 "$csvreg" fit -y y -x x1,x2 -w w weights.csv --format json
check 0 "$csvreg" fit -y y na.csv
check 0 "$csvreg" fit -y y --skip-bad skip.csv --format json
check 0 "$csvreg" fit -y y -x x1,x2,x3 model_gen.csv --holdout 0.3
check 0 "$csvreg" fit -y y -x x1,x2,x3 model_gen.csv --cv 5 --solver normal
check 0 "$csvreg" fit -y y -x x1,x2,x3 model_gen.csv -o "$m"
check 0 "$csvreg" predict -m "$m" --interval prediction model_new.csv
check 0 "$csvreg" eval -m "$m" model_gen.csv --format json
check 0 "$csvreg" fit -y y collinear.csv
check 0 "$csvreg" fit -d tab -y y -x x1,x2 small.tsv
check 3 "$csvreg" fit -y y -x x1,x2 bad.csv
check 3 "$csvreg" fit -y y ragged.csv
check 3 "$csvreg" fit -y nope small.csv
check 5 "$csvreg" fit -y y allna.csv
check 2 "$csvreg" fit --tol nan -y y small.csv
check 4 "$csvreg" fit -y y nosuch.csv
for f in "$data"/model_bad_*.json; do
  check 6 "$csvreg" predict -m "$(basename "$f")" small.csv
done
printf 'y,x\n1,2\n2,"3\n' >"$tmp/unterm.csv"
check 3 "$csvreg" fit -y y "$tmp/unterm.csv"
printf 'y,x\377\n1,1\n2,3\n3,4\n' >"$tmp/utf.csv"
check 3 "$csvreg" fit -y y "$tmp/utf.csv" -o "$m.2"
printf 'y,x\n1,1e300\n2,2e300\n3,3.5e300\n4,5e300\n' >"$tmp/huge.csv"
check 5 "$csvreg" fit -y y "$tmp/huge.csv"
"${PYTHON:-/usr/bin/python3}" -c "
n = 4098
print(','.join('c%d' % i for i in range(n))); print(','.join(['1'] * n))" >"$tmp/wide.csv"
check 3 "$csvreg" fit -y c0 "$tmp/wide.csv"

end=$(date +%s)
echo "valgrind.sh: $ran runs, $failed failed, $((end - start)) s"
[ "$failed" = 0 ]
