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

if [ -f "$case_dir/stdout" ]; then
  diff -u "$case_dir/stdout" "$tmp/stdout" >"$tmp/diff" || {
    echo "FAIL: stdout differs:"
    cat "$tmp/diff"
    fail=1
  }
elif [ -f "$case_dir/stdout.grep" ]; then
  while IFS= read -r pattern; do
    [ -z "$pattern" ] && continue
    grep -qE -- "$pattern" "$tmp/stdout" || {
      echo "FAIL: stdout does not match /$pattern/"
      fail=1
    }
  done <"$case_dir/stdout.grep"
elif [ -s "$tmp/stdout" ] && [ ! -f "$case_dir/check.py" ]; then
  echo "FAIL: unexpected stdout"
  fail=1
fi

if [ -f "$case_dir/stdout.nogrep" ]; then
  while IFS= read -r pattern; do
    [ -z "$pattern" ] && continue
    if grep -qE -- "$pattern" "$tmp/stdout"; then
      echo "FAIL: stdout matches /$pattern/"
      fail=1
    fi
  done <"$case_dir/stdout.nogrep"
fi

if [ -f "$case_dir/stderr" ]; then
  diff -u "$case_dir/stderr" "$tmp/stderr" >"$tmp/diff" || {
    echo "FAIL: stderr differs:"
    cat "$tmp/diff"
    fail=1
  }
elif [ -f "$case_dir/stderr.grep" ]; then
  while IFS= read -r pattern; do
    [ -z "$pattern" ] && continue
    grep -qE -- "$pattern" "$tmp/stderr" || {
      echo "FAIL: stderr does not match /$pattern/"
      fail=1
    }
  done <"$case_dir/stderr.grep"
elif [ -s "$tmp/stderr" ]; then
  echo "FAIL: unexpected stderr"
  fail=1
fi

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
