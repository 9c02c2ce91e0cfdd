#!/usr/bin/env bash
# bench/ab.sh - csvreg builds against each other: `csvreg fit -y y FILE --format json` with each
# binary in turn, RUNS rounds, then min and median wall and CPU (user + sys) per binary. Meant for
# before/after figures of a change on a noisy machine: the rounds interleave the binaries, so a slow
# spell of the machine hits all of them.
#
# usage: bench/ab.sh RUNS FILE LABEL=BINARY... [-- FIT OPTIONS]
#   A label may carry environment settings: 'sse2=CSVREG_SIMD=sse2 build/csvreg'.
# example:
#   bench/ab.sh 9 bench/out/clean-2000000.csv old=/tmp/csvreg-old new=build/csvreg \
#     'new-sse2=CSVREG_SIMD=sse2 build/csvreg'
set -eu
[ $# -ge 3 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
runs=$1 file=$2
shift 2
specs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do specs+=("$1"); shift; done
[ $# -gt 0 ] && shift
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cat "$file" >/dev/null
for _ in $(seq "$runs"); do
  for spec in "${specs[@]}"; do
    label=${spec%%=*} cmd=${spec#*=}
    # shellcheck disable=SC2086 # cmd is "[VAR=value ...] BINARY", split on purpose
    /usr/bin/time -f "$label %e %U %S" -a -o "$tmp" env $cmd fit -y y "$file" --format json "$@" \
      >/dev/null || { echo "ab.sh: $label failed" >&2; exit 1; }
  done
done
/usr/bin/python3 - "$tmp" <<'PY'
import statistics as st, sys
d = {}
for line in open(sys.argv[1]):
    label, wall, user, system = line.split()
    d.setdefault(label, []).append((float(wall), float(user) + float(system)))
for label, v in d.items():
    w = [a for a, _ in v]; c = [b for _, b in v]
    print(f"{label:12s} wall min {min(w):.3f} median {st.median(w):.3f} | "
          f"cpu min {min(c):.3f} median {st.median(c):.3f} ({len(v)} runs)")
PY
