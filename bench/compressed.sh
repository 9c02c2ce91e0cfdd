#!/usr/bin/env bash
# bench/compressed.sh - compressed input (issue 14), in one interleaved run: `csvreg fit FILE.gz`
# against `zcat FILE.gz | csvreg fit -` and the plain `csvreg fit FILE`; `fit FILE.zst` against the
# plain fit; the decoder inline (CSVREG_DECOMPRESS_THREAD=0) against its own thread; gzip through
# zlib (CSVREG_GZIP=zlib) against ISA-L. Median wall, user+sys CPU and peak RSS over RUNS rounds,
# and the issue's targets: .gz >= 3x faster than zcat | csvreg; .zst <= 1.4x the plain wall;
# peak RSS <= 12 MiB. With XZ_BZ2=1 also .xz (xz -6) and .bz2 (bzip2 -9), run once each for their
# peak RSS and CPU (slow to make and to decode). Not run in CI (a benchmark: run it on a quiet
# machine).
#
# usage: bench/compressed.sh RUNS FILE.csv [CSVREG]
#   FILE.csv.gz and FILE.csv.zst are made beside a copy in a temporary directory (gzip -6,
#   zstd -3: the tools' defaults).
# example:
#   bench/compressed.sh 7 bench/out/clean-2000000.csv build/csvreg
set -eu
[ $# -ge 2 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
runs=$1 src=$2 bin=$(realpath "${3:-build/csvreg}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$src" "$dir/f.csv"
gzip -6 -c "$dir/f.csv" >"$dir/f.csv.gz"
zstd -q -3 -c "$dir/f.csv" >"$dir/f.csv.zst"
if [ "${XZ_BZ2:-0}" = 1 ]; then
  xz -6 -T1 -c "$dir/f.csv" >"$dir/f.csv.xz"
  bzip2 -9 -c "$dir/f.csv" >"$dir/f.csv.bz2"
fi
cd "$dir"
fit="$bin fit -y y --quiet --format json"
cases=(
  "plain|$fit f.csv"
  "gz|$fit f.csv.gz"
  "zcat-pipe|zcat f.csv.gz | $fit -"
  "zst|$fit f.csv.zst"
  "gz-inline|CSVREG_DECOMPRESS_THREAD=0 $fit f.csv.gz"
  "zst-inline|CSVREG_DECOMPRESS_THREAD=0 $fit f.csv.zst"
  "gz-zlib|CSVREG_GZIP=zlib $fit f.csv.gz"
  "gz-threads2|$fit --threads 2 f.csv.gz"
)
cat f.csv f.csv.gz f.csv.zst >/dev/null
for _ in $(seq "$runs"); do
  for c in "${cases[@]}"; do
    label=${c%%|*} cmd=${c#*|}
    /usr/bin/time -f "$label %e %U %S %M" -a -o times sh -c "$cmd >/dev/null" ||
      { echo "compressed.sh: $label failed" >&2; exit 1; }
  done
done
if [ "${XZ_BZ2:-0}" = 1 ]; then
  for f in xz bz2; do
    /usr/bin/time -f "$f %e %U %S %M" -a -o times sh -c "$fit f.csv.$f >/dev/null" ||
      { echo "compressed.sh: $f failed" >&2; exit 1; }
  done
fi
ls -l f.csv f.csv.* | awk '{print $5, $9}'
/usr/bin/python3 - times <<'PY'
import statistics as st, sys
d = {}
for line in open(sys.argv[1]):
    label, wall, user, system, rss = line.split()
    d.setdefault(label, []).append((float(wall), float(user) + float(system), int(rss)))
med = {k: st.median(w for w, _, _ in v) for k, v in d.items()}
for k, v in d.items():
    print(f"{k:12s} wall median {med[k]:.3f} s  cpu median {st.median(c for _, c, _ in v):.3f} s  "
          f"peak RSS max {max(r for _, _, r in v) / 1024:.1f} MiB ({len(v)} runs)")
rss = max(r for k in ("gz", "zst") for _, _, r in d[k]) / 1024
print(f"targets: zcat|csvreg / gz = {med['zcat-pipe'] / med['gz']:.2f} (>= 3); "
      f"zst / plain = {med['zst'] / med['plain']:.2f} (<= 1.4); peak RSS {rss:.1f} MiB (<= 12)")
PY
