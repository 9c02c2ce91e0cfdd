#!/usr/bin/env bash
# bench/threads.sh - byte ranges at full speed (issue 15) and --threads on one file (issue 14), in
# one interleaved run on a regular file:
#   plain        csvreg fit -y y FILE --format json                      (the reference)
#   emit-state   csvreg fit -y y FILE --emit-state > s                    (target <= 1.1x plain)
#   2ranges      csvreg fit --range 1/2 --emit-state & csvreg fit --range 2/2 --emit-state; wait;
#                csvreg solve s1 s2 --format json                         (target: plain / this >= 1.6)
#   threads2     csvreg fit -y y --threads 2 FILE --format json           (target: plain / this >= 1.8)
#   threads2-counted  the same with CSVREG_SPECULATE=0 (every piece's start counted from the
#                file's start, as before speculative starts)
#   eval1, eval2 csvreg eval -m MODEL FILE --format json, one and two threads (the model fitted
#                once, untimed; target: eval1 / eval2 >= 1.6)
#   predict1, predict2, predict2-stdin  csvreg predict -m MODEL FILE > /dev/null on one and two
#                threads, and two threads on standard input (target: predict1 / predict2 >= 1.6;
#                the outputs are checked to be the same bytes)
#   stdin1, stdin2  csvreg fit -y y [--threads 2] - < FILE: a regular file on standard input, read
#                by byte ranges like a named file with two threads (target: stdin1 / stdin2 >= 1.5)
#   pipe1, pipe2, predict1-pipe, predict2-pipe  cat FILE | csvreg fit -y y [--threads 2] - and
#                the same for predict: standard input as a pipe, the way a stream reaches csvreg
#                (issue 14's standard-input target, >= 1.5, applied to a pipe: not reachable on 2
#                vCPUs, see bench/README.md "pipe14d"). `- < FILE` (predict2-stdin, stdin2) is a
#                regular file on standard input, read by byte ranges (no cat, no copy); the wall
#                time of a pipe case includes cat's, which on 2 vCPUs runs beside the one-thread
#                csvreg but competes with two threads.
#   pipe-floor   cat FILE | cat: the pipe alone (cat's read of the page cache and write into the
#                pipe, the second cat's copy out), the CPU every pipe case pays before parsing
#   2plain       two plain fits (one thread each) at once: the machine's ceiling for two threads
#                of this work, ceiling = 2 x plain / 2plain (2.00: two whole cores; what two
#                independent processes get, --threads 2 cannot beat)
# Each case runs in the bench's own shell (eval), timed by $EPOCHREALTIME and bash's time keyword:
# no harness process inside the interval (as hyperfine -N); peak RSS from one more, untimed run
# under /usr/bin/time.
# Per case: median wall, median user and sys CPU (of everything the case runs), max peak RSS, and the ratio to the plain fit's median wall; then the band of each case's wall
# times (min, median, max, spread = max / min - 1) and the ratios at the minimums: the project's
# VM runs in a fast and a slow band (~20% apart over minutes), so a median of a run that caught
# both says little; compare ratios of minimums, or runs whose spread is small. Wall times only
# mean something on a quiet machine; the CPU times say what each way costs.
#
# usage: bench/threads.sh RUNS FILE [CSVREG]
#   CASES="threads2 2plain" bench/threads.sh ...   runs only those cases and the plain fit (e.g.
#   on the wide file, where the ranges, eval and predict rows are not targets)
# example:
#   bench/threads.sh 7 bench/out/clean-2000000.csv build/csvreg
set -eu
TIMEFORMAT='%3U %3S' # bash's time keyword: user and sys CPU of the case
[ $# -ge 2 ] || { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
runs=$1 file=$(realpath "$2") bin=$(realpath "${3:-build/csvreg}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
fit="$bin fit -y y --quiet"
$fit "$file" -o model.json >/dev/null
cases=(
  "plain|$fit $file --format json"
  "emit-state|$fit $file --emit-state"
  "2ranges|$fit --range 1/2 --emit-state $file >s1 & $fit --range 2/2 --emit-state $file >s2; wait; $bin solve s1 s2 --format json"
  "threads2|$fit --threads 2 $file --format json"
  "2plain|$fit $file --format json >/dev/null & $fit $file --format json >/dev/null; wait"
  "threads2-counted|CSVREG_SPECULATE=0 $fit --threads 2 $file --format json"
  "eval1|$bin eval -m model.json $file --format json"
  "eval2|$bin eval -m model.json --threads 2 $file --format json"
  "predict1|$bin predict -m model.json --quiet $file"
  "predict2|$bin predict -m model.json --quiet --threads 2 $file"
  "predict2-stdin|$bin predict -m model.json --quiet --threads 2 - < $file"
  "stdin1|$fit - --format json < $file"
  "stdin2|$fit --threads 2 - --format json < $file"
  "pipe1|cat $file | $fit - --format json"
  "pipe2|cat $file | $fit --threads 2 - --format json"
  "predict1-pipe|cat $file | $bin predict -m model.json --quiet -"
  "predict2-pipe|cat $file | $bin predict -m model.json --quiet --threads 2 -"
  "pipe-floor|cat $file | cat"
)
if [ -n "${CASES:-}" ]; then
  keep=()
  for c in "${cases[@]}"; do
    case " plain $CASES " in *" ${c%%|*} "*) keep+=("$c") ;; esac
  done
  cases=("${keep[@]}")
fi
cat "$file" >/dev/null
for _ in $(seq "$runs"); do
  for c in "${cases[@]}"; do
    label=${c%%|*} cmd=${c#*|}
    # The case runs in this shell (eval: a fork and an exec, as from the
    # user's shell; hyperfine -N does the same): wall from $EPOCHREALTIME,
    # user and sys CPU from bash's time keyword, no process of the harness
    # inside the interval. Timing through date +%s%N, /usr/bin/time and
    # sh -c (before 2026-12-06) put three more processes' start-up in it,
    # ~9 ms (measured with perf stat -r 9: the threads2 case 0.115 s bare,
    # 0.121 s under time and sh, 0.130 s in the old loop), which lowered
    # every ratio (plain / threads2 1.81 bare, 1.72 in the old loop).
    t0=$EPOCHREALTIME
    { time eval "$cmd" >/dev/null 2>err; } 2>one ||
      { echo "threads.sh: $label failed" >&2; cat err >&2; exit 1; }
    t1=$EPOCHREALTIME
    echo "$label $(((${t1/./} - ${t0/./})))e-6 $(tail -1 one)" >>times
  done
done
# Peak RSS: once per case, untimed (/usr/bin/time -f %M; the largest
# process of the case)
for c in "${cases[@]}"; do
  label=${c%%|*} cmd=${c#*|}
  /usr/bin/time -f "%M" -o one sh -c "$cmd >/dev/null"
  echo "$label $(tail -1 one)" >>rss
done
# the answers agree: 2 ranges + solve and --threads 2 against the plain fit
$fit "$file" --format json >plain.json
$fit --range 1/2 --emit-state "$file" >s1
$fit --range 2/2 --emit-state "$file" >s2
$bin solve s1 s2 --format json >ranges.json
$fit --threads 2 "$file" --format json >threads.json
# predict --threads 2 writes one thread's bytes (file and standard input)
$bin predict -m model.json --quiet "$file" | md5sum >p1.md5
$bin predict -m model.json --quiet --threads 2 "$file" | md5sum >p2.md5
$bin predict -m model.json --quiet --threads 2 - <"$file" | md5sum >p2s.md5
cat "$file" | $bin predict -m model.json --quiet --threads 2 - | md5sum >p2p.md5
cat "$file" | $fit --threads 2 - --format json >pipe.json
cmp -s p1.md5 p2.md5 && cmp -s p1.md5 p2s.md5 && cmp -s p1.md5 p2p.md5 ||
  { echo "threads.sh: predict --threads 2 differs from one thread" >&2; exit 1; }
/usr/bin/python3 - times plain.json ranges.json threads.json pipe.json rss <<'PY'
import json, statistics as st, sys
rss = dict((l.split()[0], int(l.split()[1])) for l in open(sys.argv[6]))
d = {}
for line in open(sys.argv[1]):
    label, wall, user, system = line.split()
    d.setdefault(label, []).append((float(wall), float(user), float(system), rss[label]))
ref = st.median(w for w, *_ in d["plain"])
print(f"{'case':18s} {'wall s':>8s} {'user s':>7s} {'sys s':>6s} {'RSS MiB':>8s} {'plain/case':>10s}")
for k, v in d.items():
    w = st.median(x[0] for x in v)
    print(f"{k:18s} {w:8.4f} {st.median(x[1] for x in v):7.3f} {st.median(x[2] for x in v):6.3f} "
          f"{max(x[3] for x in v) / 1024:8.1f} {ref / w:10.2f}")
coef = lambda f: [t["estimate"] for t in json.load(open(f))["terms"]]
p = coef(sys.argv[2])
for name, f in (("2 ranges + solve", sys.argv[3]), ("--threads 2", sys.argv[4]),
                ("--threads 2 from a pipe", sys.argv[5])):
    q = coef(f)
    print(f"{name}: max relative difference to the plain fit {max(abs(a - b) / abs(a) for a, b in zip(p, q)):.1e}")
print(f"\n{'band (wall s)':18s} {'min':>7s} {'median':>7s} {'max':>7s} {'spread':>7s} {'plain/case at min':>18s}")
lo = min(x[0] for x in d["plain"])
for k, v in d.items():
    ws = sorted(x[0] for x in v)
    print(f"{k:18s} {ws[0]:7.4f} {st.median(ws):7.4f} {ws[-1]:7.4f} {ws[-1] / ws[0] - 1:7.0%} {lo / ws[0]:18.2f}")
if "2plain" in d:
    m = lambda k, f: f(x[0] for x in d[k])
    print(f"ceiling (two independent one-thread fits at once): 2 x plain / 2plain = "
          f"{2 * m('plain', st.median) / m('2plain', st.median):.2f} (medians), "
          f"{2 * m('plain', min) / m('2plain', min):.2f} (minimums)")
if "threads2" in d:
    print("threads2 wall times, sorted:", " ".join(f"{x:.4f}" for x in sorted(x[0] for x in d["threads2"])))
w = lambda k: st.median(x[0] for x in d[k]) if k in d else float("nan")
print(f"targets: emit-state / plain = {w('emit-state') / ref:.2f} (<= 1.1); plain / 2ranges = "
      f"{ref / w('2ranges'):.2f} (>= 1.6); plain / threads2 = {ref / w('threads2'):.2f} (>= 1.8); "
      f"eval1 / eval2 = {w('eval1') / w('eval2'):.2f} (>= 1.6); predict1 / predict2 = "
      f"{w('predict1') / w('predict2'):.2f} (>= 1.6), on stdin {w('predict1') / w('predict2-stdin'):.2f}; "
      f"stdin1 / stdin2 = {w('stdin1') / w('stdin2'):.2f} (>= 1.5); "
      f"pipe1 / pipe2 = {w('pipe1') / w('pipe2'):.2f} (>= 1.5: out of reach on 2 vCPUs); "
      f"predict1-pipe / predict2-pipe = {w('predict1-pipe') / w('predict2-pipe'):.2f}")
PY
