#!/usr/bin/env bash
# bench/ranges.sh - sharded fits against one plain fit (issue 15), in one interleaved run: two
# `fit --range I/2 --emit-state` processes at once, then `merge --expect-bytes` and `solve`
# (the shards as files, and the docs' GNU parallel recipe); a whole-file `--emit-state`; and
# `fit --threads 2` for reference. Median wall and user+sys CPU over RUNS rounds, each round
# running every case once in turn (a slow spell of the machine hits all of them), and the
# issue's targets: plain / (2 ranges + merge + solve) >= 1.6 on 2 cores; whole-file
# --emit-state <= 1.1x the plain fit. Every case's coefficients are checked against the plain
# fit's (1e-11) after the timed rounds. Not run in CI (a benchmark: run it on a quiet machine).
#
# usage: bench/ranges.sh RUNS FILE.csv [CSVREG]
# example (the clean 2M x 10 file of bench/gen.c, 186 MB):
#   bench/ranges.sh 9 /work/benchdata/clean-2M.csv build/csvreg
set -eu
[ $# -ge 2 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
runs=$1 src=$(realpath "$2") bin=$(realpath "${3:-build/csvreg}")
command -v parallel >/dev/null || { echo "ranges.sh: GNU parallel is not installed" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
ln -s "$src" f.csv
ln -s "$bin" csvreg
export PATH="$dir:$PATH" OPENBLAS_NUM_THREADS=1 PARALLEL=--will-cite
size=$(stat -L -c%s f.csv)
fit="csvreg fit -y y --format json"
cases=(
  "plain|$fit f.csv"
  "ranges2|csvreg fit --emit-state -y y --range 1/2 f.csv -o s1 & csvreg fit --emit-state -y y --range 2/2 f.csv -o s2 && wait \$! && csvreg merge --expect-bytes $size s1 s2 | csvreg solve --format json"
  "ranges2-parallel|parallel --halt now,fail=1 csvreg fit --emit-state -y y --range {}/2 f.csv ::: 1 2 | csvreg merge --expect-bytes $size | csvreg solve --format json"
  "emit-state|csvreg fit --emit-state -y y f.csv"
  "threads2|$fit --threads 2 f.csv"
)
cat f.csv >/dev/null
for _ in $(seq "$runs"); do
  for c in "${cases[@]}"; do
    label=${c%%|*} cmd=${c#*|}
    /usr/bin/time -f "$label %e %U %S" -a -o times sh -c "$cmd >/dev/null" ||
      { echo "ranges.sh: $label failed" >&2; exit 1; }
  done
done
# the answers, once more, outside the timings
for c in "${cases[@]}"; do
  label=${c%%|*} cmd=${c#*|}
  [ "$label" = emit-state ] && cmd="$cmd | csvreg solve --format json"
  sh -c "$cmd" >"$label.json"
done
echo "$(basename "$src"): $size bytes, $runs rounds, $(nproc) CPUs"
/usr/bin/python3 - times <<'PY'
import json, statistics as st, sys
d = {}
for line in open(sys.argv[1]):
    label, wall, user, system = line.split()
    d.setdefault(label, []).append((float(wall), float(user) + float(system)))
med = {k: st.median(w for w, _ in v) for k, v in d.items()}
for k, v in d.items():
    print(f"{k:17s} wall median {med[k]:.3f} s (min {min(w for w, _ in v):.3f})  "
          f"cpu median {st.median(c for _, c in v):.3f} s  ({len(v)} runs)")
ref = json.load(open("plain.json"))
for k in d:
    if k == "plain":
        continue
    got = json.load(open(k + ".json"))
    worst = max(abs(a["estimate"] - b["estimate"]) / max(abs(a["estimate"]), 1e-300)
                for a, b in zip(ref["terms"], got["terms"]))
    if got["n"] != ref["n"] or not worst <= 1e-11:
        sys.exit(f"ranges.sh: {k} differs from the plain fit (n {got['n']}, {worst:.3g})")
print(f"targets: plain / ranges2 = {med['plain'] / med['ranges2']:.2f} (>= 1.6); "
      f"plain / ranges2-parallel = {med['plain'] / med['ranges2-parallel']:.2f}; "
      f"emit-state / plain = {med['emit-state'] / med['plain']:.2f} (<= 1.1); "
      f"plain / threads2 = {med['plain'] / med['threads2']:.2f}")
PY
