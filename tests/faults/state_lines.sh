#!/bin/sh
# state_lines.sh CSVREG WORKDIR - state lines bounded by their own sizes, and
# merge from a pipe one state at a time (issue 17 item 9, state17):
# - a version 3 line declares "bounds" {"terms": T, "text": N} first
#   (src/model/state_head.c): a line that passes N + 32 ((T + 2)(T + 3) / 2
#   + (T + 2)) bytes is refused as it arrives (exit 6, naming the line and
#   the bound), whether it comes in one block or many; before, a long first
#   line was read up to the fixed 336 MB cap (618 MB peak for 200 MB);
# - a line that begins with neither "bounds" nor "checksum" stops at 64 KiB;
# - "bounds.terms" must be the number of terms (a forged one, checksum
#   recomputed: exit 6);
# - 20 states of 400 columns piped into merge with no line text held
#   (CSVREG_TEST_STATE_KEEP=0) are copied to an unlinked temporary file and
#   read again one at a time: peak within 8 MB of the merge of one state
#   (all 20 accumulators were held: 38 MB against 11 MB), the same bytes as
#   the merge of the files, in any order, and the repeated-shard and
#   checksum checks still hold; with no writable TMPDIR they are held.
# CSVREG_BOUNDS_NO_RSS=1 (the sanitizer build) keeps the runs and byte
# checks and skips the RSS limits.
set -u
csvreg=$1
work=$2
mkdir -p "$work" || exit 1
fail=0
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }
check_rss() { # NAME KB LIMIT_KB
  if [ "${CSVREG_BOUNDS_NO_RSS:-0}" = 1 ]; then
    echo "skipped (sanitizer build): $1: peak RSS $2 kB (limit $3 kB)"
  elif [ "$2" -gt "$3" ]; then
    echo "FAIL: $1: peak RSS $2 kB, more than $3 kB"
    fail=1
  else
    echo "ok: $1: peak RSS $2 kB (limit $3 kB)"
  fi
}
expect() { # NAME RC WANT_RC ERRFILE PATTERN
  [ "$2" = "$3" ] || { echo "FAIL: $1: exit $2, expected $3"; cat "$4"; fail=1; }
  grep -q -- "$5" "$4" || { echo "FAIL: $1: message"; cat "$4"; fail=1; }
}
piped() { # N COMMAND...: stdin to COMMAND under time -v; exit status in $work/rcN
  n=$1
  shift
  /usr/bin/time -v -o "$work/t$n" "$@" >"$work/o$n" 2>"$work/e$n"
  echo $? >"$work/rc$n"
}
stream() { # HEAD MB: HEAD then MB MiB of 'a' and the end of a JSON string
  printf '%s' "$1"
  head -c $(($2 * 1048576)) /dev/zero | tr '\0' a
  printf '"}\n'
}

printf 'y,x\n1,2\n2,3\n3,5\n4,4\n' >"$work/s.csv"
"$csvreg" fit -y y --emit-state "$work/s.csv" >"$work/s.state" || fail=1
grep -q '^{"bounds":{"terms":1,"text":[0-9]*},"checksum":"crc32:' "$work/s.state" ||
  { echo "FAIL: a state line does not begin with its bounds"; head -c 200 "$work/s.state"; fail=1; }
text=$(sed -n 's/^{"bounds":{"terms":1,"text":\([0-9]*\)}.*/\1/p' "$work/s.state")
# the declared text is the line with its kernel array written as []
red=$(sed 's/"r":\[[^]]*\]/"r":[]/' "$work/s.state" | tr -d '\n' | wc -c)
[ "$text" = "$red" ] || { echo "FAIL: bounds.text $text, the line without r is $red"; fail=1; }
bound=$((text + 32 * ((1 + 2) * (1 + 3) / 2 + (1 + 2))))

# a forged version 3 head, then 200 MB of string
stream "{\"bounds\":{\"terms\":1,\"text\":$text},\"checksum\":\"" 200 | piped 1 "$csvreg" merge
expect "200 MB after a 1-term bounds" "$(cat "$work/rc1")" 6 "$work/e1" \
  "^csvreg: <stdin>:1: not a valid csvreg state: the line is longer than $bound bytes, more than its \"bounds\" allow (1 terms and $text bytes of text besides the numbers; a damaged line, or lines of concurrent writers interleaved: each writer must write whole lines)$"
[ -s "$work/o1" ] && { echo "FAIL: output written"; fail=1; }
check_rss "200 MB after a 1-term bounds" "$(rss "$work/t1")" 65536

# the same line whole in one block (no pipe): refused by the same bound
{ printf '{"bounds":{"terms":1,"text":%s},"checksum":"' "$text"; head -c 5000 /dev/zero | tr '\0' a;
  printf '"}\n'; } >"$work/long.state"
"$csvreg" merge "$work/long.state" >/dev/null 2>"$work/e2"
expect "a 5 kB line of 1 term" $? 6 "$work/e2" \
  "^csvreg: $work/long.state:1: not a valid csvreg state: the line is longer than $bound bytes"

# a first key that is no state's
stream '{"a":"' 200 | piped 3 "$csvreg" merge
expect "200 MB after another key" "$(cat "$work/rc3")" 6 "$work/e3" \
  '^csvreg: <stdin>:1: not a valid csvreg state: the line is longer than 65536 bytes and begins with neither "bounds" (version 3) nor "checksum" (versions 1 and 2)$'
check_rss "200 MB after another key" "$(rss "$work/t3")" 65536

# a malformed bounds, and a forged bounds.terms with its checksum recomputed
printf '{"bounds":{"terms":"x","text":1},"checksum":"crc32:00000000"}\n' >"$work/badb.state"
"$csvreg" merge "$work/badb.state" >/dev/null 2>"$work/e4"
expect "malformed bounds" $? 6 "$work/e4" \
  'not a valid csvreg state: the line begins with a "bounds" member that is not {"terms": T, "text": N}'
python3 - "$work/s.state" "$work/forged.state" <<'EOF'
import json, sys, zlib
def canon(v):
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k) + ":" + canon(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    return json.dumps(v)
d = json.loads(open(sys.argv[1]).read())
d["bounds"]["terms"] = 2
d.pop("checksum")
d["checksum"] = "crc32:%08x" % zlib.crc32(canon(d).encode())
open(sys.argv[2], "w").write(canon(d) + "\n")
EOF
"$csvreg" solve "$work/forged.state" >/dev/null 2>"$work/e5"
expect "forged bounds.terms" $? 6 "$work/e5" \
  'forged.state:1: not a valid csvreg state: "bounds.terms" (2) is not the number of "terms" (1)$'

# ---- merge from a pipe, one state at a time ----
awk 'BEGIN { p = 400; n = 600; s = 777;
  printf "y"; for (j = 1; j <= p; j++) printf ",x%d", j; printf "\n";
  for (i = 1; i <= n; i++) { for (j = 0; j <= p; j++) {
      s = (s * 1103515245 + 12345) % 2147483648; printf "%s%.6f", j ? "," : "", s / 2147483648 }
    printf "\n" } }' >"$work/w.csv"
: >"$work/all.state"
: >"$work/rev.state"
i=1
while [ $i -le 20 ]; do
  "$csvreg" fit -y y --emit-state --range $i/20 "$work/w.csv" >"$work/r$i.state" || fail=1
  cat "$work/r$i.state" >>"$work/all.state"
  cat "$work/r$i.state" "$work/rev.state" >"$work/rev.tmp" && mv "$work/rev.tmp" "$work/rev.state"
  i=$((i + 1))
done
files=$(i=1; while [ $i -le 20 ]; do printf '%s ' "$work/r$i.state"; i=$((i + 1)); done)
# shellcheck disable=SC2086
"$csvreg" merge $files >"$work/files.state" || fail=1
/usr/bin/time -v -o "$work/t6" "$csvreg" merge "$work/r1.state" >/dev/null || fail=1
one=$(rss "$work/t6")
cat "$work/all.state" | CSVREG_TEST_STATE_KEEP=0 piped 7 "$csvreg" merge
[ "$(cat "$work/rc7")" = 0 ] || { echo "FAIL: merge of 20 piped states"; cat "$work/e7"; fail=1; }
cmp -s "$work/o7" "$work/files.state" ||
  { echo "FAIL: 20 piped states merged one at a time: not the bytes of the files' merge"; fail=1; }
check_rss "merge of 20 piped states of 400 columns (one state: $one kB)" "$(rss "$work/t7")" \
  $((one + 8192))
cat "$work/rev.state" | CSVREG_TEST_STATE_KEEP=0 "$csvreg" merge --expect-bytes \
  "$(wc -c <"$work/w.csv")" >"$work/o8" || fail=1
cmp -s "$work/o8" "$work/files.state" ||
  { echo "FAIL: piped in reverse order: other bytes"; fail=1; }
cat "$work/all.state" | CSVREG_TEST_STATE_KEEP=0 TMPDIR=/nonexistent "$csvreg" merge >"$work/o9" ||
  fail=1
cmp -s "$work/o9" "$work/files.state" || { echo "FAIL: no TMPDIR: other bytes"; fail=1; }
# a shard twice, and a shard missing, through the pipe
cat "$work/all.state" "$work/r7.state" | CSVREG_TEST_STATE_KEEP=0 "$csvreg" merge \
  --expect-bytes "$(wc -c <"$work/w.csv")" >/dev/null 2>"$work/e10"
expect "a piped shard twice" $? 3 "$work/e10" "a shard is duplicated"
grep -v -F -x -f "$work/r7.state" "$work/all.state" | CSVREG_TEST_STATE_KEEP=0 "$csvreg" merge \
  --expect-bytes "$(wc -c <"$work/w.csv")" >/dev/null 2>"$work/e11"
expect "a piped shard missing" $? 3 "$work/e11" "a shard is missing"
# a damaged line past the budget: its checksum names it
{ head -n 5 "$work/all.state"; sed 's/"records":[0-9]*/"records":1/' "$work/r6.state"; } |
  CSVREG_TEST_STATE_KEEP=0 "$csvreg" merge >/dev/null 2>"$work/e12"
expect "a damaged piped line" $? 6 "$work/e12" "^csvreg: <stdin>:6: state checksum mismatch"

exit $fail
