#!/bin/sh
# bounds.sh CSVREG WORKDIR - resource bounds of issue 17 item 9, by peak RSS
# (/usr/bin/time -v) with generous factors, never by timings:
# - `merge /dev/zero` stops in its first block (a NUL byte is no JSON):
#   exit 6 naming line 1, peak RSS under 64 MB;
# - a 1.1 GB (sparse) model file is refused by its size before it is read:
#   exit 6, peak RSS under 64 MB;
# - fit -o, predict and merge at 600 columns (a few seconds): the model and
#   state files are written and read without a JSON tree of their O(p^2)
#   numbers (json_write.c, state_scan.c), so fit -o peaks within 24 MB of
#   fit without -o (measured +9 MB; +87 MB with the JSON tree), predict
#   within 1.5 times the model text plus 24 MB (38.5 MB; 80 MB before) and
#   a merge of one state within twice its text plus 20 MB (18.6 MB; 41 MB);
# - the one-at-a-time merge (CSVREG_TEST_STATE_KEEP=0: no state held, each
#   read again when merged): 4 states give the bytes of the default merge
#   (all held), and peak within 16 MB of the merge of one.
# CSVREG_BOUNDS_NO_RSS=1 (the sanitizer build: ASan's shadow and quarantine
# inflate RSS) keeps the runs and byte checks and skips the 600-column RSS
# limits.
set -u
csvreg=$1
work=$2
mkdir -p "$work" || exit 1
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

/usr/bin/time -v -o "$work/t0" "$csvreg" merge /dev/zero >"$work/o0" 2>"$work/e0"
rc=$?
[ "$rc" = 6 ] || { echo "FAIL: merge /dev/zero: exit $rc"; fail=1; }
grep -q '^csvreg: /dev/zero:1: not a valid csvreg state: a control byte (0x00) at byte 1' "$work/e0" ||
  { echo "FAIL: merge /dev/zero: message"; cat "$work/e0"; fail=1; }
check_rss "merge /dev/zero" "$(rss "$work/t0")" 65536

printf 'y,x\n1,2\n2,3\n3,5\n' >"$work/s.csv"
"$csvreg" fit -y y --quiet -o "$work/m.json" "$work/s.csv" >/dev/null || fail=1
rm -f "$work/big.json"
truncate -s 1100M "$work/big.json"
/usr/bin/time -v -o "$work/t1" "$csvreg" predict -m "$work/big.json" "$work/s.csv" >"$work/o1" 2>"$work/e1"
rc=$?
[ "$rc" = 6 ] || { echo "FAIL: big model: exit $rc"; fail=1; }
grep -q "not a csvreg model: 1153433600 bytes, larger than 1073741824" "$work/e1" ||
  { echo "FAIL: big model: message"; cat "$work/e1"; fail=1; }
check_rss "predict -m (1.1 GB model)" "$(rss "$work/t1")" 65536
rm -f "$work/big.json"

# 600 columns, 700 rows (deterministic); 4 byte ranges for the merges.
awk 'BEGIN { p = 600; n = 700; s = 12345;
  printf "y"; for (j = 1; j <= p; j++) printf ",x%d", j; printf "\n";
  for (i = 1; i <= n; i++) { y = 0;
    for (j = 1; j <= p; j++) { s = (s * 1103515245 + 12345) % 2147483648;
      x[j] = s / 2147483648 - 0.5; if (j <= 5) y += x[j] }
    printf "%.6f", y + x[p] / 7; for (j = 1; j <= p; j++) printf ",%.6f", x[j]; printf "\n" } }' \
  >"$work/w.csv"
size() { wc -c <"$1"; }
/usr/bin/time -v -o "$work/t2" "$csvreg" fit -y y --quiet "$work/w.csv" >/dev/null || fail=1
/usr/bin/time -v -o "$work/t3" "$csvreg" fit -y y --quiet -o "$work/w.model" "$work/w.csv" \
  >/dev/null || fail=1
plain=$(rss "$work/t2")
check_rss_600() {
  if [ "${CSVREG_BOUNDS_NO_RSS:-0}" = 1 ]; then
    echo "skipped (sanitizer build): $1: peak RSS $2 kB (limit $3 kB)"
  else
    check_rss "$@"
  fi
}
check_rss_600 "fit -o, 600 columns (fit: $plain kB, model $(size "$work/w.model") B)" \
  "$(rss "$work/t3")" $((plain + 24576))
/usr/bin/time -v -o "$work/t4" "$csvreg" predict -m "$work/w.model" "$work/w.csv" \
  >"$work/p.csv" || fail=1
check_rss_600 "predict -m, 600 columns" "$(rss "$work/t4")" \
  $(($(size "$work/w.model") * 3 / 2 / 1024 + 24576))
for i in 1 2 3 4; do
  "$csvreg" fit -y y --emit-state --range $i/4 "$work/w.csv" >"$work/q$i.state" || fail=1
done
/usr/bin/time -v -o "$work/t5" "$csvreg" merge "$work/q1.state" >"$work/m1.state" || fail=1
one=$(rss "$work/t5")
check_rss_600 "merge of one state ($(size "$work/q1.state") B)" "$one" \
  $(($(size "$work/q1.state") * 2 / 1024 + 20480))
"$csvreg" merge "$work/q1.state" "$work/q2.state" "$work/q3.state" "$work/q4.state" \
  >"$work/m4held.state" || fail=1
CSVREG_TEST_STATE_KEEP=0 /usr/bin/time -v -o "$work/t6" "$csvreg" merge "$work/q4.state" \
  "$work/q2.state" "$work/q3.state" "$work/q1.state" >"$work/m4.state" || fail=1
cmp -s "$work/m4.state" "$work/m4held.state" ||
  { echo "FAIL: merge one at a time: not the bytes of the merge of held states"; fail=1; }
check_rss_600 "merge of 4 states one at a time" "$(rss "$work/t6")" $((one + 16384))

exit $fail
