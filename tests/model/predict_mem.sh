#!/bin/sh
# predict_mem.sh CSVREG WORKDIR - the peak RSS of point predictions from a
# wide model (issue 12, mem12e), and that they are the full model's.
# A 1000-level model (6000 rows: 866 design columns, q^2 doubles = 5.9 MB)
# read for point predictions (predict without --interval or row statistics,
# and eval: CSVREG_MODEL_READ_PREDICT) keeps no pre-select state (its state
# is finished in place), no design factor, and its fit takes the finished
# state's array: one q x q array, two for a moment while the state selects
# its columns. Limits: 8 MiB + 2 q^2 doubles + the command's chunk (predict
# 1024 rows, eval 4096 rows of q doubles). Measured (load ~5): predict
# 39,660 -> 22,048 kB against 26,838; eval 59,932 -> 42,464 kB against
# 47,622 (hold14 held four or five q x q arrays: the pre-select state, its
# finished copy, the covariance and the design factor).
# Then the numbers: predict's output is byte for byte the prediction column
# of predict --interval confidence (which reads the whole model), and eval's
# RMSE and MAE are those of predict's output (1e-12 relative).
# CSVREG_PREDMEM_NO_RSS=1 (sanitizer builds) keeps the numbers, skips the limits.
set -u
csvreg=$1
work=$2
here=$(dirname "$0")
mkdir -p "$work" || exit 1
fail=0
/usr/bin/python3 "$here/../../bench/gen_factors.py" --rows 6000 --levels 1000 --seed 2 \
  >"$work/f.csv" || exit 1
"$csvreg" fit 'y ~ .' "$work/f.csv" -o "$work/m.json" --quiet >/dev/null || exit 1
q=$(/usr/bin/python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["fit"]["terms"]))' \
  "$work/m.json") || exit 1
/usr/bin/time -v -o "$work/tp" "$csvreg" predict -m "$work/m.json" "$work/f.csv" --only \
  >"$work/p.txt" || fail=1
/usr/bin/time -v -o "$work/te" "$csvreg" eval -m "$work/m.json" "$work/f.csv" --format json \
  >"$work/e.json" || fail=1
if [ "${CSVREG_PREDMEM_NO_RSS:-0}" != 1 ]; then
  for c in predict:tp:1024 eval:te:4096; do
    name=${c%%:*} rest=${c#*:}
    t=${rest%%:*} rows=${rest#*:}
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$t")
    limit=$(((8 * 1048576 + 16 * q * q + 8 * rows * q) / 1024))
    if [ "$kb" -gt "$limit" ]; then
      echo "FAIL: $name of a 1000-level model ($q design columns): peak RSS $kb kB, more than $limit kB"
      fail=1
    else
      echo "ok: $name of a 1000-level model ($q design columns): peak RSS $kb kB (limit $limit kB)"
    fi
  done
fi
# fit --update reads the model with CSVREG_MODEL_READ_UPDATE: no design
# factor, the finished copy's numbers given to the fit. 3000 new rows (seed
# 3): hold14 peaked in the load, this in the merge of the new rows; hold14 measured 42,704 kB, mem12e
# 38,980 kB, against 8 MiB + 5.5 q^2 doubles (40,417 kB at q = 866). The
# model written is the one a whole-model load writes (model_model pins that:
# test_read_predict).
/usr/bin/python3 "$here/../../bench/gen_factors.py" --rows 3000 --levels 1000 --seed 3 \
  >"$work/u.csv" || exit 1
/usr/bin/time -v -o "$work/tu" "$csvreg" fit "$work/u.csv" --update "$work/m.json" \
  -o "$work/m2.json" --quiet >/dev/null || fail=1
if [ "${CSVREG_PREDMEM_NO_RSS:-0}" != 1 ]; then
  kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/tu")
  limit=$(((8 * 1048576 + 44 * q * q) / 1024))
  if [ "$kb" -gt "$limit" ]; then
    echo "FAIL: fit --update of a 1000-level model: peak RSS $kb kB, more than $limit kB"
    fail=1
  else
    echo "ok: fit --update of a 1000-level model: peak RSS $kb kB (limit $limit kB)"
  fi
fi
"$csvreg" predict -m "$work/m.json" "$work/f.csv" --only --interval confidence >"$work/pi.txt" ||
  fail=1
if cut -d, -f1 "$work/pi.txt" | cmp -s - "$work/p.txt"; then
  echo "ok: point predictions are the whole model's"
else
  echo "FAIL: point predictions differ from predict --interval's"
  fail=1
fi
/usr/bin/python3 - "$work/f.csv" "$work/p.txt" "$work/e.json" <<'PY' || fail=1
import csv, json, math, sys
ys = [float(r["y"]) for r in csv.DictReader(open(sys.argv[1]))]
lines = open(sys.argv[2]).read().split()
ps = [float(v) for v in lines[1:]]
assert len(ps) == len(ys), (len(ps), len(ys))
d = [y - p for y, p in zip(ys, ps)]
rmse = math.sqrt(math.fsum(x * x for x in d) / len(d))
mae = math.fsum(abs(x) for x in d) / len(d)
e = json.load(open(sys.argv[3]))
for k, want in (("rmse", rmse), ("mae", mae)):
    got = e[k]
    if abs(got - want) > 1e-12 * abs(want):
        print("FAIL: eval %s %r, from predict's output %r" % (k, got, want))
        sys.exit(1)
print("ok: eval's rmse and mae are those of predict's output")
PY
exit $fail
