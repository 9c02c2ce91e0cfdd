#!/bin/sh
# eval_bounds.sh CSVREG WORKDIR - eval --every in bounded memory (issue 16):
# finished windows go to a spool (src/engine/badlog.c: memory up to a cap,
# then an unnamed temporary file in $TMPDIR), so peak RSS does not grow with
# the windows. 300,000 rows at --every 1 kept ~50 MB of evaluators before;
# the limit, 24 MB, is generous (6-10 MB measured; 60 MB before). Also:
# CSV and JSON, --threads 2 on a file and a stream, the temporary file left
# nowhere (after success, an error, SIGTERM), and a $TMPDIR that cannot take
# it is an I/O error (exit 4) naming the temporary file.
set -u
csvreg=$1
work=$2
rm -rf "$work"
mkdir -p "$work/tmp" || exit 1
fail=0
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
check_rss() { # NAME KB LIMIT_KB
  if [ "$2" -gt "$3" ]; then
    echo "FAIL: $1: peak RSS $2 kB, more than $3 kB"
    fail=1
  else
    echo "ok: $1: peak RSS $2 kB (limit $3 kB)"
  fi
}
empty_tmp() { # WHEN
  if [ -n "$(ls -A "$work/tmp")" ]; then
    echo "FAIL: $1: left in \$TMPDIR: $(ls -A "$work/tmp")"
    fail=1
  fi
}
rows=300000
awk -v n=$rows 'BEGIN { print "y,x"; for (i = 1; i <= n; i++) { x = (i * 37) % 1001 / 10;
  printf "%.4f,%g\n", 2 * x + 1 + ((i * 7919) % 97 - 48) / 50, x } }' >"$work/d.csv"
"$csvreg" fit -y y --quiet -o "$work/m.json" "$work/d.csv" >/dev/null || { echo "FAIL: fit"; exit 1; }

limit=24576
n=0
for args in "--format csv" "--format csv --threads 2" "--format json" "--format text --threads 2"; do
  n=$((n + 1))
  # shellcheck disable=SC2086
  TMPDIR="$work/tmp" /usr/bin/time -v -o "$work/t$n" "$csvreg" eval -m "$work/m.json" --every 1 \
    --quiet $args "$work/d.csv" >"$work/o$n" 2>"$work/e$n"
  rc=$?
  [ "$rc" = 0 ] || { echo "FAIL: eval --every 1 $args: exit $rc"; cat "$work/e$n"; fail=1; }
  check_rss "eval --every 1 $args" "$(rss "$work/t$n")" $limit
  empty_tmp "eval --every 1 $args"
done
# the windows are all there: CSV one line each, JSON one object each
[ "$(wc -l <"$work/o1")" = $((rows + 1)) ] || { echo "FAIL: CSV: $(wc -l <"$work/o1") lines"; fail=1; }
cmp -s "$work/o1" "$work/o2" || { echo "FAIL: CSV with --threads 2 differs"; fail=1; }
[ "$(grep -c '"window":' "$work/o3")" = $rows ] || { echo "FAIL: JSON windows"; fail=1; }
tail -n 2 "$work/o4" | grep -q "^$rows " || { echo "FAIL: text table"; tail -n 2 "$work/o4"; fail=1; }

# a stream with threads
TMPDIR="$work/tmp" /usr/bin/time -v -o "$work/t5" "$csvreg" eval -m "$work/m.json" --every 1 \
  --quiet --format csv --threads 2 - <"$work/d.csv" >"$work/o5" 2>"$work/e5" ||
  { echo "FAIL: stream: exit $?"; fail=1; }
check_rss "eval --every 1 --threads 2 -" "$(rss "$work/t5")" $limit
cmp -s "$work/o1" "$work/o5" || { echo "FAIL: CSV of the stream differs"; fail=1; }
empty_tmp "stream"

# an error after the windows spilled (a bad cell on the last line): exit 3
cp "$work/d.csv" "$work/late.csv"
echo "1,oops" >>"$work/late.csv"
TMPDIR="$work/tmp" "$csvreg" eval -m "$work/m.json" --every 1 --quiet "$work/late.csv" \
  >/dev/null 2>"$work/e6"
rc=$?
[ "$rc" = 3 ] || { echo "FAIL: late error: exit $rc"; fail=1; }
empty_tmp "late error"

# SIGTERM while it runs
TMPDIR="$work/tmp" "$csvreg" eval -m "$work/m.json" --every 1 --quiet --format json \
  "$work/d.csv" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -TERM $pid 2>/dev/null
wait $pid
empty_tmp "SIGTERM"

# a $TMPDIR that cannot be written: exit 4, said so
TMPDIR="$work/none" "$csvreg" eval -m "$work/m.json" --every 1 --quiet "$work/d.csv" \
  >/dev/null 2>"$work/e7"
rc=$?
[ "$rc" = 4 ] || { echo "FAIL: no TMPDIR: exit $rc"; fail=1; }
grep -q "cannot write or read the windows' temporary file" "$work/e7" ||
  { echo "FAIL: no TMPDIR: message"; cat "$work/e7"; fail=1; }

[ "$fail" = 0 ] && rm -rf "$work"
exit $fail
