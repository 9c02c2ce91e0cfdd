#!/bin/sh
# run_case.sh CSVREG CASE_DIR DATA_DIR - runs one CLI test case.
#
# A case is a folder holding:
#   cmd          the arguments, in shell syntax (may redirect: `fit -y y < small.csv`);
#                run from DATA_DIR so that file names in messages are short
#   exit         the expected exit status
#   stdout       the exact expected standard output, or
#   stdout.grep  extended regular expressions, one a line, that stdout must each match
#                (neither, nor check.py: stdout must be empty)
#   stdout.nogrep  optional: patterns stdout must not match (e.g. nan|inf)
#   stderr       the exact expected standard error, or
#   stderr.grep  patterns stderr must each match (for timings)
#                (neither file: stderr must be empty)
#   stdin        optional: a file fed to standard input (default /dev/null)
#   check.py     optional: run as `python3 check.py STDOUT_FILE` from DATA_DIR with
#                CSVREG set to the program; must exit 0 (helpers: fitcheck.py)
# Prints what differs and exits 1 on a mismatch.
set -u
csvreg=$1
case_dir=$(cd "$2" && pwd)
data_dir=$3
python=${PYTHON:-/usr/bin/python3}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

input=/dev/null
[ -f "$case_dir/stdin" ] && input="$case_dir/stdin"
args=$(cat "$case_dir/cmd")
expected_exit=$(cat "$case_dir/exit")

cd "$data_dir" || exit 1
eval "\"\$csvreg\" $args" <"$input" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?

fail=0
if [ "$status" != "$expected_exit" ]; then
  echo "FAIL: exit status $status, expected $expected_exit"
  fail=1
fi

# compare_stream NAME EXTRA: the case's NAME file (exact), or NAME.grep
# (patterns that must match); otherwise the output must be empty, unless
# EXTRA (a file that checks it instead) exists.
compare_stream() {
  name=$1 extra=$2
  if [ -f "$case_dir/$name" ]; then
    diff -u "$case_dir/$name" "$tmp/$name" >"$tmp/diff" || {
      echo "FAIL: $name differs:"
      cat "$tmp/diff"
      fail=1
    }
  elif [ -f "$case_dir/$name.grep" ]; then
    while IFS= read -r pattern; do
      [ -z "$pattern" ] && continue
      grep -qE -- "$pattern" "$tmp/$name" || {
        echo "FAIL: $name does not match /$pattern/"
        fail=1
      }
    done <"$case_dir/$name.grep"
  elif [ -s "$tmp/$name" ] && [ ! -f "$case_dir/$extra" ]; then
    echo "FAIL: unexpected $name"
    fail=1
  fi
}

compare_stream stdout check.py

if [ -f "$case_dir/stdout.nogrep" ]; then
  while IFS= read -r pattern; do
    [ -z "$pattern" ] && continue
    if grep -qE -- "$pattern" "$tmp/stdout"; then
      echo "FAIL: stdout matches /$pattern/"
      fail=1
    fi
  done <"$case_dir/stdout.nogrep"
fi

compare_stream stderr ""

if [ -f "$case_dir/check.py" ]; then
  CSVREG=$csvreg "$python" "$case_dir/check.py" "$tmp/stdout" || {
    echo "FAIL: check.py"
    fail=1
  }
fi

if [ "$fail" != 0 ]; then
  echo "--- command: csvreg $args"
  echo "--- stdout:"
  head -c 4000 "$tmp/stdout"
  echo "--- stderr:"
  head -c 4000 "$tmp/stderr"
  exit 1
fi
exit 0
