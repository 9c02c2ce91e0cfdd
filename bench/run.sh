#!/usr/bin/env bash
# csvreg benchmark: generate the data deterministically, then time csvreg and its peers on
# it in the same run, print a table with the ratios, and check that the coefficients agree.
#
# usage: bench/run.sh [--rows N] [--quick] [options]
#   --rows N        rows of the clean and messy shapes (default 2000000, ~186 MB clean)
#   --wide-rows N   rows of the wide shape, 200 features (default 100000)
#   --quick         1 run per measurement instead of the median of 3
#   --runs N        runs per measurement (default 3)
#   --build DIR     csvreg build directory (default $CSVREG_BUILD or build; relative to the
#                   repository root). The csvreg binary is DIR/csvreg.
#   --shapes LIST   comma-separated subset of clean,messy,wide (default all three)
#   --tools LIST    comma-separated subset of cat,wc,csvreg,csvreg-blas1,csvreg-normal,pandas,R,
#                   duckdb-1t,duckdb (default all; csvreg-blas1 is csvreg with
#                   OPENBLAS_NUM_THREADS=1, to show what OpenBLAS's threads cost)
#   --no-extras     skip the csvreg memory runs (10^5 and 10^7 rows) and the --chunk-rows sweep
#   --threads-list L  comma-separated thread counts for the `csvreg fit --threads N` runs on the
#                   clean and wide shapes, from the file and from `cat FILE |` (default 1,2; 1 is
#                   added when missing: speed-up and CPU cost are against it)
#   --no-threads    skip the --threads runs
#   --no-predict    skip csvreg predict / eval on the clean shape (against fit and pandas+sklearn;
#                   the sklearn peers run when --tools includes pandas)
#   --no-main       skip the main table (the --tools runs): e.g. only the threads and predict parts
#                   with --no-extras
#
# Data (bench/gen.c; the true model is stated below and printed by `gen --coef`):
#   clean  x1..x10,y; x_j uniform on [-100,100] with 4 decimals (-12.3456), LF
#   messy  the clean columns plus quoted text columns `name` (after x5) and `comment` (before y)
#          holding commas and doubled quotes, CRLF, ~5% of numbers with an exponent
#          (1.5e-3), ~1% of numeric cells NA
#   wide   x1..x200,y
#   y = 3 + sum_j b_j x_j + e, e ~ Irwin-Hall(12)-6 (sd 1), b_j = (-1)^(j+1) (1 + (7j mod 8))/4:
#   true coefficients for 10 features: (Intercept) 3, x1..x10 = 2, -1.75, 1.5, -1.25, 1, -0.75,
#   0.5, -0.25, 2, -1.75.
#
# Each measurement: warm page cache (cat FILE > /dev/null), then /usr/bin/time -v for the peak
# RSS and CPU times; wall time from date +%s%N around it. Runs of the tools are interleaved.
# Output: a table on stdout and bench/out/results.md; raw runs in bench/out/runs/.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
OUT=$HERE/out
ROWS=2000000
WIDE_ROWS=100000
RUNS=3
BUILD=${CSVREG_BUILD:-build}
SHAPES=clean,messy,wide
TOOLS=cat,wc,csvreg,csvreg-blas1,csvreg-normal,pandas,R,duckdb-1t,duckdb
EXTRAS=1
MAIN=1
THREADS=1
THREADS_LIST=1,2
PREDICT=1
CMDLINE="bench/run.sh $*"

die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --rows) ROWS=${2:?}; shift 2 ;;
    --wide-rows) WIDE_ROWS=${2:?}; shift 2 ;;
    --quick) RUNS=1; shift ;;
    --runs) RUNS=${2:?}; shift 2 ;;
    --build) BUILD=${2:?}; shift 2 ;;
    --shapes) SHAPES=${2:?}; shift 2 ;;
    --tools) TOOLS=${2:?}; shift 2 ;;
    --no-extras) EXTRAS=0; shift ;;
    --threads-list) THREADS_LIST=${2:?}; shift 2 ;;
    --no-threads) THREADS=0; shift ;;
    --no-predict) PREDICT=0; shift ;;
    --no-main) MAIN=0; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CSVREG=$BUILD/csvreg
[[ $THREADS_LIST =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--threads-list wants N[,N]... (N > 0)"
case ",$THREADS_LIST," in *,1,*) ;; *) THREADS_LIST=1,$THREADS_LIST ;; esac
has() { case ",$2," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

mkdir -p "$OUT/runs"
rm -f "$OUT"/runs/*
TSV=$OUT/runs/runs.tsv
META=$OUT/runs/meta.tsv
: >"$TSV"
: >"$META"
note() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

# ---- the generator and the data ------------------------------------------------------------
GEN=$OUT/gen
if [ ! -x "$GEN" ] || [ "$HERE/gen.c" -nt "$GEN" ]; then
  cc -O2 -std=c11 -Wall -Wextra -o "$GEN" "$HERE/gen.c" || die "cannot compile gen.c"
fi
gen_file() { # shape rows -> path; regenerated when missing or older than the generator
  local f=$OUT/$1-$2.csv
  if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
    echo "generating $f" >&2
    "$GEN" --shape "$1" --rows "$2" >"$f.tmp" || die "generating $f failed"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}
declare -A FILE FEAT
for s in ${SHAPES//,/ }; do
  case $s in
    clean|messy) FILE[$s]=$(gen_file "$s" "$ROWS"); p=10 ;;
    wide) FILE[$s]=$(gen_file wide "$WIDE_ROWS"); p=200 ;;
    *) die "unknown shape $s" ;;
  esac
  FEAT[$s]=$(seq -s, -f 'x%g' 1 "$p")
  "$GEN" --shape "$s" --coef >"$OUT/runs/truth-$s.txt"
  note "file:$s" "${FILE[$s]}"
  note "bytes:$s" "$(stat -c %s "${FILE[$s]}")"
done

# ---- environment -----------------------------------------------------------------------------
note date "$(date -u '+%Y-%m-%d %H:%M UTC')"
note command "$CMDLINE"
note runs "$RUNS"
# Other jobs on the machine inflate wall times (the CPU column is steadier): record the load.
note load-start "$(cut -d' ' -f1-3 /proc/loadavg)"
note cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS OMP_NUM_THREADS; do
  note "env:$v" "${!v-(unset)}"
done
note "version:pandas" "$(/usr/bin/python3 -c 'import pandas, numpy; print("pandas", pandas.__version__, "numpy", numpy.__version__)' 2>&1)"
note "version:R" "$(Rscript -e 'cat(R.version.string, "data.table", as.character(packageVersion("data.table")))' 2>&1)"
note "version:duckdb" "node $(node --version 2>&1) @duckdb/node-api $(node -p 'require("'"$HERE"'/node_modules/@duckdb/node-api/package.json").version' 2>&1)"

# ---- which tools can run ---------------------------------------------------------------------
declare -A AVAIL
probe=$(gen_file clean 1000)
pf=x1,x2,x3,x4,x5,x6,x7,x8,x9,x10
AVAIL[cat]=ok
AVAIL[wc]=ok
if [ ! -x "$CSVREG" ]; then
  AVAIL[csvreg]="not available: no $CSVREG (build it: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release)"
elif ! "$CSVREG" fit -y y "$probe" --format json >"$OUT/runs/probe.json" 2>"$OUT/runs/probe.err" ||
  ! /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))["terms"][0]["estimate"]' \
    "$OUT/runs/probe.json" 2>/dev/null; then
  AVAIL[csvreg]="not available: '$CSVREG fit' failed on a 1000-row sample: $(head -c 200 "$OUT/runs/probe.err")"
else
  AVAIL[csvreg]=ok
fi
AVAIL[csvreg-normal]=${AVAIL[csvreg]}
AVAIL[csvreg-blas1]=${AVAIL[csvreg]}
if [ "${AVAIL[csvreg]}" = ok ] &&
  ! "$CSVREG" fit -y y --solver normal "$probe" --format json >/dev/null 2>&1; then
  AVAIL[csvreg-normal]="not available: --solver normal failed"
fi
/usr/bin/python3 "$HERE/peers/pandas_fit.py" "$probe" y "$pf" >/dev/null 2>&1 &&
  AVAIL[pandas]=ok || AVAIL[pandas]="not available: /usr/bin/python3 with pandas failed"
command -v Rscript >/dev/null && Rscript "$HERE/peers/r_fit.R" "$probe" y "$pf" >/dev/null 2>&1 &&
  AVAIL[R]=ok || AVAIL[R]="not available: Rscript with data.table failed"
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
  (cd "$HERE" && npm install --no-audit --no-fund >/dev/null 2>&1)
fi
node "$HERE/peers/duckdb_fit.mjs" "$probe" y "$pf" 1 >/dev/null 2>&1 &&
  AVAIL[duckdb-1t]=ok || AVAIL[duckdb-1t]="not available: node + @duckdb/node-api failed (npm install in bench/)"
AVAIL[duckdb]=${AVAIL[duckdb-1t]}
# --threads, predict and eval are probed apart: a build without them still runs the rest.
AVAIL[csvreg-threads]=${AVAIL[csvreg]}
if [ "${AVAIL[csvreg]}" = ok ] &&
  { ! "$CSVREG" fit -y y --threads 2 "$probe" --format json >/dev/null 2>&1 ||
    ! "$CSVREG" fit -y y --threads 2 - --format json <"$probe" >/dev/null 2>&1; }; then
  AVAIL[csvreg-threads]="not available: '$CSVREG fit --threads 2' failed on a 1000-row sample"
fi
AVAIL[csvreg-predict]=${AVAIL[csvreg]}
pm=$OUT/runs/probe-model.json
if [ "${AVAIL[csvreg]}" = ok ] &&
  { ! "$CSVREG" fit -y y "$probe" -o "$pm" >/dev/null 2>&1 ||
    ! "$CSVREG" predict -m "$pm" "$probe" >/dev/null 2>&1 ||
    ! "$CSVREG" predict --only -m "$pm" "$probe" >/dev/null 2>&1 ||
    ! "$CSVREG" eval -m "$pm" "$probe" --format json >/dev/null 2>&1; }; then
  AVAIL[csvreg-predict]="not available: csvreg fit -o, predict or eval failed on a 1000-row sample"
fi
SKL=$HERE/peers/sklearn_predict_eval.py
if [ "${AVAIL[csvreg-predict]}" != ok ]; then
  AVAIL[sklearn]="not available: needs a model from csvreg fit -o"
elif /usr/bin/python3 "$SKL" eval "$pm" "$probe" >/dev/null 2>&1; then
  AVAIL[sklearn]=ok
else
  AVAIL[sklearn]="not available: /usr/bin/python3 with pandas and sklearn failed"
fi
for t in ${TOOLS//,/ }; do
  [ -n "${AVAIL[$t]+x}" ] || die "unknown tool $t"
  [ "$MAIN" = 1 ] || continue
  note "avail:$t" "${AVAIL[$t]}"
  [ "${AVAIL[$t]}" = ok ] || echo "$t: ${AVAIL[$t]}" >&2
done
if [ "$THREADS" = 1 ] && { has clean "$SHAPES" || has wide "$SHAPES"; }; then
  note "threads-list" "$THREADS_LIST"
  note "avail:csvreg-threads" "${AVAIL[csvreg-threads]}"
  [ "${AVAIL[csvreg-threads]}" = ok ] || echo "csvreg --threads: ${AVAIL[csvreg-threads]}" >&2
fi
has pandas "$TOOLS" || AVAIL[sklearn]="not run: pandas is not in --tools"
if [ "$PREDICT" = 1 ] && has clean "$SHAPES"; then
  note "avail:pe-csvreg" "${AVAIL[csvreg-predict]}"
  note "avail:pe-sklearn" "${AVAIL[sklearn]}"
  for t in csvreg-predict sklearn; do
    [ "${AVAIL[$t]}" = ok ] || echo "$t: ${AVAIL[$t]}" >&2
  done
fi
note main "$MAIN"

# ---- measuring -------------------------------------------------------------------------------
# measure SHAPE TOOL RUN CMD...: one timed run. MEASURE_OUT overrides where stdout goes;
# PIPE_FROM (a command string) feeds the command's stdin, outside the measured process.
measure() {
  local shape=$1 tool=$2 run=$3
  shift 3
  local base=$OUT/runs/$shape.$tool.$run
  local out=${MEASURE_OUT:-$base.out} t0 t1 rc
  t0=$(date +%s%N)
  if [ -n "${PIPE_FROM:-}" ]; then
    bash -c "$PIPE_FROM" | /usr/bin/time -v -o "$base.time" "$@" >"$out" 2>"$base.err"
    rc=${PIPESTATUS[1]}
  else
    /usr/bin/time -v -o "$base.time" "$@" >"$out" 2>"$base.err"
    rc=$?
  fi
  t1=$(date +%s%N)
  local rss user sys
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$base.time")
  user=$(sed -n 's/.*User time (seconds): //p' "$base.time")
  sys=$(sed -n 's/.*System time (seconds): //p' "$base.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" "$tool" "$run" "$rc" \
    "$(((t1 - t0) / 1000))" "${rss:-0}" "${user:-0}" "${sys:-0}" "$out" >>"$TSV"
  [ "$rc" = 0 ] || echo "  $tool on $shape run $run failed (exit $rc): $(tail -c 300 "$base.err")" >&2
}

run_tool() { # SHAPE TOOL RUN
  local s=$1 t=$2 r=$3 f=${FILE[$1]} x=${FEAT[$1]}
  # csvreg's default features are all other columns; the messy shape's text columns are not.
  local sel=()
  [ "$s" = messy ] && sel=(-x "$x")
  cat "$f" >/dev/null
  case $t in
    cat) MEASURE_OUT=/dev/null measure "$s" "$t" "$r" cat "$f" ;;
    wc) measure "$s" "$t" "$r" wc -l "$f" ;;
    csvreg) measure "$s" "$t" "$r" "$CSVREG" fit -y y "${sel[@]}" "$f" --format json ;;
    csvreg-blas1) measure "$s" "$t" "$r" env OPENBLAS_NUM_THREADS=1 \
      "$CSVREG" fit -y y "${sel[@]}" "$f" --format json ;;
    csvreg-normal)
      measure "$s" "$t" "$r" "$CSVREG" fit -y y "${sel[@]}" --solver normal "$f" --format json ;;
    pandas) measure "$s" "$t" "$r" /usr/bin/python3 "$HERE/peers/pandas_fit.py" "$f" y "$x" ;;
    R) measure "$s" "$t" "$r" Rscript "$HERE/peers/r_fit.R" "$f" y "$x" ;;
    duckdb-1t) measure "$s" "$t" "$r" node "$HERE/peers/duckdb_fit.mjs" "$f" y "$x" 1 ;;
    duckdb) measure "$s" "$t" "$r" node "$HERE/peers/duckdb_fit.mjs" "$f" y "$x" default ;;
  esac
}

if [ "$MAIN" = 1 ]; then
  for s in ${SHAPES//,/ }; do
    for r in $(seq 1 "$RUNS"); do
      for t in ${TOOLS//,/ }; do
        [ "${AVAIL[$t]}" = ok ] || continue
        echo "[$s run $r/$RUNS] $t" >&2
        run_tool "$s" "$t" "$r"
      done
    done
  done
fi

# ---- csvreg extras: memory at 10^5 and 10^7 rows, the --chunk-rows sweep ----------------------
if [ "$EXTRAS" = 1 ] && [ "${AVAIL[csvreg]}" = ok ]; then
  # The floor: what loading the libraries (OpenBLAS, LAPACKE, ...) costs before any data.
  echo "[memory] csvreg --help" >&2
  MEASURE_OUT=/dev/null measure mem-floor csvreg 1 "$CSVREG" --help
  f5=$(gen_file clean 100000)
  cat "$f5" >/dev/null
  echo "[memory] 10^5 rows, file" >&2
  measure mem-1e5 csvreg 1 "$CSVREG" fit -y y "$f5" --format json
  note "bytes:mem-1e5" "$(stat -c %s "$f5")"
  # 10^7 rows (~930 MB) are streamed from the generator, never stored.
  echo "[memory] 10^7 rows, gen | csvreg fit -y y -" >&2
  PIPE_FROM="'$GEN' --shape clean --rows 10000000" measure mem-1e7 csvreg 1 \
    "$CSVREG" fit -y y - --format json
  note "bytes:mem-1e7" "$("$GEN" --shape clean --rows 10000000 | wc -c)"
  "$GEN" --shape clean --coef >"$OUT/runs/truth-mem-1e5.txt"
  cp "$OUT/runs/truth-mem-1e5.txt" "$OUT/runs/truth-mem-1e7.txt"
  for s in clean wide; do
    has "$s" "$SHAPES" || continue
    for r in $(seq 1 "$RUNS"); do
      for c in 256 512 1024 4096 16384 65536; do
        echo "[sweep $s run $r/$RUNS] --chunk-rows $c" >&2
        cat "${FILE[$s]}" >/dev/null
        # One BLAS thread: OpenBLAS's idle worker spins (sched_yield) and, on a busy machine,
        # its noise hides the effect of the chunk size.
        measure "$s" "csvreg-chunk$c" "$r" env OPENBLAS_NUM_THREADS=1 \
          "$CSVREG" fit -y y --chunk-rows "$c" "${FILE[$s]}" --format json
      done
    done
  done
fi

# ---- csvreg fit --threads N: wall and CPU time against one thread, from a file and a pipe -----
# The two vCPUs may give less than two cores of throughput, so the CPU time (user + sys of
# csvreg alone; the pipe's cat is outside /usr/bin/time but inside the wall time) is reported.
if [ "$THREADS" = 1 ] && [ "${AVAIL[csvreg-threads]}" = ok ]; then
  for s in clean wide; do
    has "$s" "$SHAPES" || continue
    for r in $(seq 1 "$RUNS"); do
      for n in ${THREADS_LIST//,/ }; do
        for src in file stdin; do
          echo "[threads $s run $r/$RUNS] --threads $n, $src" >&2
          cat "${FILE[$s]}" >/dev/null
          if [ "$src" = file ]; then
            measure "$s" "csvreg-threads$n-file" "$r" \
              "$CSVREG" fit -y y --threads "$n" "${FILE[$s]}" --format json
          else
            PIPE_FROM="cat $(printf %q "${FILE[$s]}")" measure "$s" "csvreg-threads$n-stdin" "$r" \
              "$CSVREG" fit -y y --threads "$n" - --format json
          fi
        done
      done
    done
  done
fi

# ---- csvreg predict and eval next to csvreg fit on the clean file, and pandas + sklearn -------
# The model is fitted once, untimed; the fit timed here runs interleaved with predict and eval,
# so the ratios come from the same minutes of a noisy machine. Predictions go to /dev/null.
if [ "$PREDICT" = 1 ] && has clean "$SHAPES" && [ "${AVAIL[csvreg-predict]}" = ok ]; then
  f=${FILE[clean]}
  model=$OUT/runs/model-clean.json
  if ! "$CSVREG" fit -y y "$f" -o "$model" --format json >"$OUT/runs/model-clean.out" \
    2>"$OUT/runs/model-clean.err"; then
    note "avail:pe-csvreg" "not available: csvreg fit -o failed on $f"
    echo "csvreg fit -o failed on $f: $(tail -c 300 "$OUT/runs/model-clean.err")" >&2
  else
    pe=(fit predict predict-only eval)
    [ "${AVAIL[sklearn]}" = ok ] && pe+=(sklearn-predict sklearn-predict-only sklearn-eval)
    for r in $(seq 1 "$RUNS"); do
      for t in "${pe[@]}"; do
        echo "[predict/eval run $r/$RUNS] $t" >&2
        cat "$f" >/dev/null
        case $t in
          fit) measure clean pe-csvreg-fit "$r" "$CSVREG" fit -y y "$f" --format json ;;
          predict) MEASURE_OUT=/dev/null measure clean pe-csvreg-predict "$r" \
            "$CSVREG" predict -m "$model" "$f" ;;
          predict-only) MEASURE_OUT=/dev/null measure clean pe-csvreg-predict-only "$r" \
            "$CSVREG" predict --only -m "$model" "$f" ;;
          eval) measure clean pe-csvreg-eval "$r" "$CSVREG" eval -m "$model" "$f" --format json ;;
          sklearn-*) o=/dev/null
            [ "$t" = sklearn-eval ] && o=$OUT/runs/clean.pe-$t.$r.out
            MEASURE_OUT=$o measure clean "pe-$t" "$r" \
              /usr/bin/python3 "$SKL" "${t#sklearn-}" "$model" "$f" ;;
        esac
      done
    done
  fi
fi

note load-end "$(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$HERE/report.py" "$OUT/runs" "$OUT/results.md"
