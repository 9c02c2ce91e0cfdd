#!/bin/sh
# bounds.sh CSVREG WORKDIR - resource bounds of issue 17 item 9, by peak RSS
# (/usr/bin/time -v) with generous factors, never by timings:
# - `merge /dev/zero` stops in its first block (a NUL byte is no JSON):
#   exit 6 naming line 1, peak RSS under 64 MB;
# - a 1.1 GB (sparse) model file is refused by its size before it is read:
#   exit 6, peak RSS under 64 MB.
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

exit $fail
