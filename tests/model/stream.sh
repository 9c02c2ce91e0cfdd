#!/bin/sh
# stream.sh CSVREG DATA WORK - a model file read as a stream (load12d,
# model_read.c): a regular file is scanned a block at a time and never held
# whole; a pipe is still read whole and loaded as before, so the pipe is the
# oracle here. With blocks of 1, 2, 3, 7, 64 bytes and the default
# (CSVREG_TEST_MODEL_BLOCK, for tests only), every number, key and string
# of the model lies across block boundaries somewhere, and:
# - predict and eval print the bytes the pipe's load prints, and fit
#   --update writes the same model;
# - a truncated file, garbage in the state's triangle or the fit's
#   covariance (a stray byte, a NUL, a broken number, a lost bracket) and
#   an edited number end with the exit status and message of the pipe (the
#   loader of before), pinned for three of them.
set -u
csvreg=$1
data=$2
work=$3
mkdir -p "$work" || exit 1
fail=0
export OPENBLAS_NUM_THREADS=1 LC_ALL=C
blocks="1 2 3 7 64 default"
run_block() { # BLOCK CMD...: the command with that block size
  b=$1
  shift
  if [ "$b" = default ]; then "$@"; else CSVREG_TEST_MODEL_BLOCK=$b "$@"; fi
}

"$csvreg" fit 'y ~ x * g + k' "$data/report_factors.csv" -o "$work/f.json" >/dev/null || fail=1
"$csvreg" fit -y Employed --solver normal "$data/longley.csv" -o "$work/n.json" >/dev/null ||
  fail=1
head -13 "$data/report_factors.csv" >"$work/a.csv"
{ head -1 "$data/report_factors.csv"; tail -12 "$data/report_factors.csv"; } >"$work/b.csv"
"$csvreg" fit 'y ~ x * g + k' "$work/a.csv" -o "$work/u.json" >/dev/null || fail=1

# model CSV: each model with the file it predicts
for pair in f.json:$data/report_factors.csv n.json:$data/longley.csv \
  model_gen.json:$data/model_gen.csv model_gen_w.json:$data/model_gen.csv \
  model_gen_normal.json:$data/model_gen.csv; do
  m=${pair%%:*}
  csv=${pair#*:}
  [ -f "$work/$m" ] || cp "$data/$m" "$work/$m"
  cat "$work/$m" | "$csvreg" predict -m /dev/stdin "$csv" >"$work/p.pipe" 2>&1 ||
    { echo "FAIL: $m: predict from a pipe"; fail=1; }
  cat "$work/$m" | "$csvreg" eval -m /dev/stdin "$csv" --format json >"$work/e.pipe" 2>&1
  for b in $blocks; do
    run_block "$b" "$csvreg" predict -m "$work/$m" "$csv" >"$work/p.file" 2>&1 ||
      { echo "FAIL: $m, block $b: predict"; fail=1; }
    cmp -s "$work/p.file" "$work/p.pipe" ||
      { echo "FAIL: $m, block $b: predict differs from the pipe's load"; fail=1; }
    run_block "$b" "$csvreg" eval -m "$work/$m" "$csv" --format json >"$work/e.file" 2>&1
    cmp -s "$work/e.file" "$work/e.pipe" ||
      { echo "FAIL: $m, block $b: eval differs from the pipe's load"; fail=1; }
  done
  echo "ok: $m: predict and eval equal with blocks $blocks"
done

# fit --update from the file (streamed) and from a pipe: the same model
cat "$work/u.json" | "$csvreg" fit "$work/b.csv" --update /dev/stdin -o "$work/u.pipe.json" \
  >/dev/null 2>&1 || { echo "FAIL: --update from a pipe"; fail=1; }
for b in 1 7 default; do
  run_block "$b" "$csvreg" fit "$work/b.csv" --update "$work/u.json" -o "$work/u.file.json" \
    >/dev/null 2>&1 || { echo "FAIL: --update, block $b"; fail=1; }
  # the record of the folded file names it; the update itself is the same
  cmp -s "$work/u.file.json" "$work/u.pipe.json" ||
    { echo "FAIL: --update, block $b: not the model of the pipe's load"; fail=1; }
done
echo "ok: fit --update: the same model with blocks 1, 7 and the default"

# damaged files: the status and message of the loader of before (the pipe)
m=$work/f.json
size=$(wc -c <"$m")
r_line=$(grep -n '^    "r": \[' "$m" | cut -d: -f1)
v_line=$(grep -n '^    "vcov": \[' "$m" | cut -d: -f1)
head -c $((size / 2)) "$m" >"$work/d_half.json"
head -c $((size - 3)) "$m" >"$work/d_end.json"
head -n $((r_line + 3)) "$m" >"$work/d_in_r.json"
sed "$((r_line + 2))s/\"0x/\"zz/" "$m" >"$work/d_r_garbage.json"
sed "$((r_line + 2))s/\"0x/\"\\\\u0030x/" "$m" >"$work/d_r_escape.json"
sed "$((r_line + 2))s/,\$/ x,/" "$m" >"$work/d_r_stray.json"
sed "$((v_line + 2))s/\\([0-9]\\),\$/\\1.5.5,/" "$m" >"$work/d_v_number.json"
sed "$((v_line + 2))s/\\([0-9]\\),\$/\\1e,/" "$m" >"$work/d_v_exponent.json"
sed "$((v_line + 1))s/\\[//" "$m" >"$work/d_v_bracket.json"
sed "$((r_line + 1))s/p+/p-/;t;$((r_line + 1))s/p-/p+/" "$m" >"$work/d_r_edited.json"
awk -v n=$((r_line + 2)) 'NR == n { printf "      \"0x1p+0\0\",\n"; next } { print }' "$m" \
  >"$work/d_r_nul.json"
# an escaped digit in a hex float is no number for the scanner: jansson's
# whole-text load reads it (and its checksum holds: exit 0)
for dw in half:6 end:6 in_r:6 r_garbage:6 r_escape:0 r_stray:6 v_number:6 v_exponent:6 \
  v_bracket:6 r_edited:6 r_nul:6; do
  d=${dw%%:*}
  f=$work/d_$d.json
  cat "$f" | "$csvreg" predict -m /dev/stdin "$data/report_factors.csv" >/dev/null 2>"$work/x.pipe"
  want=$?
  sed 's|/dev/stdin|MODEL|' "$work/x.pipe" >"$work/x.want"
  [ "$want" = "${dw#*:}" ] || { echo "FAIL: $d: the pipe's load exits $want"; fail=1; }
  for b in 1 7 default; do
    run_block "$b" "$csvreg" predict -m "$f" "$data/report_factors.csv" >/dev/null 2>"$work/x.file"
    rc=$?
    sed "s|$f|MODEL|" "$work/x.file" >"$work/x.got"
    if [ "$rc" != "$want" ] || ! cmp -s "$work/x.got" "$work/x.want"; then
      echo "FAIL: $d, block $b: exit $rc (want $want)"
      cat "$work/x.got" "$work/x.want"
      fail=1
    fi
  done
  echo "ok: $d: exit $want, $(cat "$work/x.want")"
done
pin() { # NAME MESSAGE: the file's message (block 7)
  CSVREG_TEST_MODEL_BLOCK=7 "$csvreg" predict -m "$work/d_$1.json" "$data/report_factors.csv" \
    >/dev/null 2>"$work/x.pin"
  grep -qF "$2" "$work/x.pin" || { echo "FAIL: $1: message"; cat "$work/x.pin"; fail=1; }
}
pin half "d_half.json: not a csvreg model: the JSON ends early at line"
pin r_stray "d_r_stray.json: not a csvreg model: invalid JSON at line $((r_line + 2)), column"
pin r_edited "d_r_edited.json: model checksum mismatch"
exit $fail
