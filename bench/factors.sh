#!/usr/bin/env bash
# factors.sh - categorical columns: csvreg against R (data.table::fread + lm) and pandas +
# statsmodels' formula API on the same model, in one interleaved run (issue 12's bench).
#
# Data (bench/gen_factors.py, a fixed seed, generated once into bench/out/):
#   factors-N.csv      x1..x8, c10 (10 levels), c100 (100 levels that keep appearing through
#                      the whole file: level j first after j% of the rows), y
#   factors1000-N.csv  x1..x8, c1000 (1000 levels appearing through the whole file), y
# Model: y ~ . (csvreg: text columns are categorical, as R's; statsmodels: C() on them):
# 8 + 9 + 99 terms and an intercept. Targets (issue 12): csvreg >= 5x faster than R and
# >= 10x faster than statsmodels, peak RSS <= 16 MiB; the 1000-level file (csvreg only: R's
# model matrix would be rows x 1008 doubles) in <= 8 MiB + (design columns)^2 doubles.
# Each run reads the file with cat first (warm page cache) and runs the tool under
# /usr/bin/time -v (peak RSS); runs are interleaved across tools; the table shows the median
# wall time and the largest peak RSS; the ratio is peer wall / csvreg wall. Coefficients are
# checked against csvreg's by name (max relative difference over the terms).
#
# usage: bench/factors.sh [--rows N] [--runs R] [--build DIR] [--tools LIST] [--no-1000]
#   --rows N      rows (default 2000000)        --runs R     runs per tool (default 3)
#   --build DIR   csvreg build directory (default $CSVREG_BUILD or build), relative to the root
#   --tools LIST  comma-separated among csvreg,R,statsmodels (default all)
#   --no-1000     skip the 1000-level file
# A tool that cannot run is reported as not available; the rest goes on.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
ROWS=2000000
RUNS=3
BUILD=${CSVREG_BUILD:-build}
TOOLS=csvreg,R,statsmodels
BIG=1
while [ $# -gt 0 ]; do
  case $1 in
    --rows) ROWS=${2:?}; shift 2 ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --build) BUILD=${2:?}; shift 2 ;;
    --tools) TOOLS=${2:?}; shift 2 ;;
    --no-1000) BIG=0; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "factors.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CSVREG=$BUILD/csvreg
PY=/usr/bin/python3
OUT=$HERE/out/factors
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=1 LC_ALL=C

DATA=$HERE/out/factors-$ROWS.csv
DATA1000=$HERE/out/factors1000-$ROWS.csv
[ -s "$DATA" ] || "$PY" "$HERE/gen_factors.py" --rows "$ROWS" --levels 10,100 >"$DATA" || exit 2
if [ "$BIG" = 1 ] && [ ! -s "$DATA1000" ]; then
  "$PY" "$HERE/gen_factors.py" --rows "$ROWS" --levels 1000 --seed 2 >"$DATA1000" || exit 2
fi

# measure LABEL RUN FILE CMD...: one timed run; appends "label wall_ms peak_kb rc" to results
measure() {
  local label=$1 run=$2 file=$3; shift 3
  cat "$file" >/dev/null
  local t0 t1 rc kb
  t0=$(date +%s%N)
  /usr/bin/time -v "$@" >"$OUT/$label.$run.out" 2>"$OUT/$label.$run.time"
  rc=$?
  t1=$(date +%s%N)
  kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$OUT/$label.$run.time")
  echo "$label $(( (t1 - t0) / 1000000 )) ${kb:-0} $rc" >>"$OUT/results.txt"
}

has() { case ",$TOOLS," in *",$1,"*) return 0 ;; esac; return 1; }
rm -f "$OUT/results.txt"
for run in $(seq "$RUNS"); do
  if has csvreg; then
    measure csvreg "$run" "$DATA" "$CSVREG" fit 'y ~ .' "$DATA" --format json --quiet
  fi
  if has R; then
    measure R "$run" "$DATA" Rscript "$HERE/peers/r_factors.R" "$DATA"
  fi
  if has statsmodels; then
    measure statsmodels "$run" "$DATA" "$PY" "$HERE/peers/statsmodels_factors.py" "$DATA"
  fi
  if [ "$BIG" = 1 ] && has csvreg; then
    measure csvreg-1000 "$run" "$DATA1000" "$CSVREG" fit 'y ~ .' "$DATA1000" --format json --quiet
  fi
done

"$PY" - "$OUT" "$ROWS" "$DATA" <<'PYEOF'
import json, os, statistics, sys
out, rows, data = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = {}
for line in open(os.path.join(out, "results.txt")):
    label, ms, kb, rc = line.split()
    res.setdefault(label, []).append((int(ms) / 1000, int(kb) / 1024, int(rc)))


def coefs(label):
    """The first successful run's coefficients by name."""
    for run in range(1, len(res.get(label, [])) + 1):
        path = os.path.join(out, f"{label}.{run}.out")
        if res[label][run - 1][2]:
            continue
        text = open(path).read()
        if label.startswith("csvreg"):
            d = json.loads(text)
            return {t["name"]: t["estimate"] for t in d["terms"]}, len(d["terms"])
        return {n: float(v) for n, v in (l.split(" ", 1) for l in text.splitlines())}, None
    return None, None


size = os.path.getsize(data)
print(f"categorical columns: {rows} rows, x1..x8 + c10 + c100 (levels through the file), "
      f"{size / 1e6:.0f} MB; y ~ .")
print(f"{'tool':<14} {'wall s':>8} {'MB/s':>8} {'peak MiB':>9} {'ratio':>7} {'max rel diff':>13}")
ref, nterms = coefs("csvreg")
wall = {}
for label in ("csvreg", "R", "statsmodels", "csvreg-1000"):
    runs = res.get(label)
    if not runs:
        continue
    ok = [r for r in runs if r[2] == 0]
    if not ok:
        print(f"{label:<14} not available (exit {runs[0][2]}; see {out}/{label}.1.time)")
        continue
    w = statistics.median(r[0] for r in ok)
    wall[label] = w
    rss = max(r[1] for r in ok)
    ratio = f"{w / wall['csvreg']:.1f}x" if "csvreg" in wall and label in ("R", "statsmodels") \
        else ""
    diff = ""
    if ref and label in ("R", "statsmodels"):
        c, _ = coefs(label)
        common = [n for n in ref if n in c]
        diff = f"{max(abs(c[n] - ref[n]) / max(abs(ref[n]), 1e-300) for n in common):.1e}" \
            if len(common) == len(ref) == len(c) else f"names differ ({len(common)}/{len(ref)})"
    print(f"{label:<14} {w:8.2f} {size / 1e6 / w:8.0f} {rss:9.1f} {ratio:>7} {diff:>13}")
    res[label + ":rss"] = rss
print("targets (issue 12):")
if "csvreg" in wall:
    rss = res["csvreg:rss"]
    print(f"  csvreg peak RSS {rss:.1f} MiB <= 16 MiB: {'yes' if rss <= 16 else 'NO'}")
    for peer, k in (("R", 5), ("statsmodels", 10)):
        if peer in wall:
            r = wall[peer] / wall["csvreg"]
            print(f"  {r:.1f}x faster than {peer} (target >= {k}x): {'yes' if r >= k else 'NO'}")
if "csvreg-1000" in wall:
    _, p = coefs("csvreg-1000")
    q = p + 1
    limit = 8 + q * q * 8 / 2**20
    rss = res["csvreg-1000:rss"]
    print(f"  1000 levels: {q} design columns, peak RSS {rss:.1f} MiB <= 8 MiB + {q}^2 doubles "
          f"= {limit:.1f} MiB: {'yes' if rss <= limit else 'NO'}")
PYEOF
