#!/bin/sh
# robust.sh CSVREG DOCS - robust standard errors with both passes sharded
# (issue 13): the recipes `robust` (HC1, ranges) and `robust-cluster`
# (clusters, --pipepart blocks) of docs/engines.md run as written, each the
# answer of one process's fit --vcov to 1e-11.
. "$(dirname "$0")/common.sh"
command -v parallel >/dev/null || fail "GNU parallel is not installed"
python3 - <<'PY'
import random
r = random.Random(41)
with open("big.csv", "w") as f:
    f.write("x1,x2,x3,store,y\n")
    for i in range(30000):
        a, b, c = r.gauss(0, 1), r.gauss(5, 2), r.uniform(-1e3, 1e3)
        s = r.randrange(300)
        e = r.gauss(0, 0.3 + abs(a)) + 0.01 * (s % 17)
        f.write("%r,%r,%r,s%d,%r\n" % (a, b, c, s, 1 + 2 * a - 0.5 * b + 1e-3 * c + e))
PY
csvreg fit -y y -x x1,x2,x3 --vcov HC1 --format json big.csv > one-hc1.json
csvreg fit -y y -x x1,x2,x3 --vcov cluster --cluster store --format json big.csv > one-cl.json
for r in robust robust-cluster; do
  recipe $r > $r.sh
  sh -eu $r.sh > $r.json || fail "recipe $r failed"
done
same one-hc1.json robust.json "recipe robust"
same one-cl.json robust-cluster.json "recipe robust-cluster"
echo PASS
