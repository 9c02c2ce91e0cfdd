#!/bin/sh
# cv_many_folds.sh CSVREG WORKDIR - --cv with many folds costs O(K p^3) at the
# end, not K^2 merges (issue 17 item 10: --cv 1000 at 300 columns ran past
# 120 s). 1500 rows x 100 columns, --cv 500: ~1 s now, minutes before; the
# run must end under timeout 20 with every fold scored.
set -u
bin=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
awk 'BEGIN { srand(7); printf "y"; for (j = 0; j < 100; j++) printf ",x%d", j; print "";
  for (i = 0; i < 1500; i++) { s = 0; line = "";
    for (j = 0; j < 100; j++) { v = rand(); if (j < 5) s += v; line = line sprintf(",%.4f", v) }
    printf "%.4f%s\n", s + rand(), line } }' > cv.csv
timeout -s KILL 20 "$bin" fit -y y --cv 500 cv.csv > out.txt 2> err.txt
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: fit --cv 500: exit $rc: $(head -c 300 err.txt)"
  exit 1
fi
grep -q "^ *500 " out.txt && grep -q "^ *mean " out.txt || { echo "FAIL: folds missing"; cat out.txt; exit 1; }
echo ok
