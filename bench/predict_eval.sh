#!/usr/bin/env bash
# predict_eval.sh - throughput and peak RSS of `csvreg predict` and `csvreg eval` on 10^7
# rows streamed through a pipe from bench/gen.c (clean shape: x1..x10,y), beside pandas
# read_csv(chunksize) + sklearn LinearRegression.predict / sklearn.metrics on the same
# stream, in the same run. Prints one table: wall seconds, rows/s, peak RSS (from
# /usr/bin/time -v), and the pandas/csvreg ratio; checks that the RMSEs agree.
# The peer is peers/sklearn_predict_eval.py, shared with bench/run.sh (which times predict and
# eval against fit on a file; this script is the long run through a pipe).
#
# usage: bench/predict_eval.sh [--rows N] [--build DIR]
#   --rows N     rows to predict and evaluate (default 10000000)
#   --build DIR  csvreg build directory (default $CSVREG_BUILD or build), relative to the root
# The model is fitted once with `csvreg fit -o` on 10^6 rows of another seed.
# The generator's own time (gen > /dev/null) is shown too: every wall time includes it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
ROWS=10000000
BUILD=${CSVREG_BUILD:-build}
while [ $# -gt 0 ]; do
  case $1 in
    --rows) ROWS=${2:?}; shift 2 ;;
    --build) BUILD=${2:?}; shift 2 ;;
    *) echo "predict_eval.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CSVREG=$BUILD/csvreg
[ -x "$CSVREG" ] || { echo "predict_eval.sh: no $CSVREG (build first)" >&2; exit 2; }
OUT=$HERE/out/predict_eval
mkdir -p "$OUT"
GEN=$HERE/out/gen
if [ ! -x "$GEN" ] || [ "$HERE/gen.c" -nt "$GEN" ]; then
  cc -O2 -std=c11 -Wall -Wextra -o "$GEN" "$HERE/gen.c" || exit 2
fi
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1

"$GEN" --shape clean --rows 1000000 --seed 7 | "$CSVREG" fit -y y - -o "$OUT/model.json" \
  --format csv >"$OUT/fit.csv" || exit 1

PEER=$HERE/peers/sklearn_predict_eval.py

# measure NAME CMD...: runs "gen | CMD" under /usr/bin/time -v; prints wall s and peak MiB.
measure() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  "$GEN" --shape clean --rows "$ROWS" | /usr/bin/time -v "$@" >"$OUT/$name.out" 2>"$OUT/$name.time"
  local rc=${PIPESTATUS[1]}
  t1=$(date +%s%N)
  [ "$rc" = 0 ] || { echo "$name failed (exit $rc):" >&2; tail -5 "$OUT/$name.time" >&2; }
  local kb
  kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$OUT/$name.time")
  echo "$name $(( (t1 - t0) / 1000000 )) $kb" >>"$OUT/results.txt"
}

rm -f "$OUT/results.txt"
t0=$(date +%s%N); "$GEN" --shape clean --rows "$ROWS" >/dev/null; t1=$(date +%s%N)
echo "gen $(( (t1 - t0) / 1000000 )) 0" >>"$OUT/results.txt"
measure csvreg-predict "$CSVREG" predict -m "$OUT/model.json" --only --stats -
measure pandas-predict "$PY" "$PEER" predict-only "$OUT/model.json" -
measure csvreg-eval "$CSVREG" eval -m "$OUT/model.json" --format json --stats -
measure pandas-eval "$PY" "$PEER" eval "$OUT/model.json" -

echo "csvreg predict/eval vs pandas chunked + sklearn, $ROWS rows (x1..x10,y) through a pipe"
echo "(wall includes bench/gen writing the stream: see the gen row)"
awk -v rows="$ROWS" '
  { wall[$1] = $2 / 1000; rss[$1] = $3 / 1024; order[++n] = $1 }
  END {
    printf "%-16s %9s %12s %10s %8s\n", "run", "wall s", "rows/s", "peak MiB", "ratio"
    for (i = 1; i <= n; i++) {
      k = order[i]; peer = k; sub(/^csvreg/, "pandas", peer)
      ratio = (k ~ /^csvreg/ && wall[k] > 0) ? sprintf("%.1fx", wall[peer] / wall[k]) : ""
      printf "%-16s %9.2f %12.0f %10.1f %8s\n", k, wall[k], rows / wall[k], rss[k], ratio
    }
  }' "$OUT/results.txt"
lines=$(wc -l <"$OUT/csvreg-predict.out")
echo "csvreg predict wrote $lines lines"
"$PY" - "$OUT/csvreg-eval.out" "$OUT/pandas-eval.out" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
rel = abs(a["rmse"] - b["rmse"]) / b["rmse"]
print(f"RMSE csvreg {a['rmse']:.15g}, sklearn {b['rmse']:.15g} (relative difference {rel:.2g}); "
      f"n {a['n']} / {b['n']}")
PYEOF
grep -h "stats:" "$OUT"/csvreg-*.time
