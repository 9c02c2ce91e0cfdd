#!/bin/sh
# parallel.sh CSVREG DOCS - GNU parallel on one host (issue 15): the recipes
# `pipepart` and `ranges` of docs/engines.md run as written, each the answer
# of one pass to 1e-11.
. "$(dirname "$0")/common.sh"
command -v parallel >/dev/null || fail "GNU parallel is not installed"
gen big.csv 30000 32
csvreg fit -y y --format json big.csv > one.json
for r in pipepart ranges; do
  recipe $r > $r.sh
  sh -eu $r.sh > $r.json || fail "recipe $r failed"
  same one.json $r.json "recipe $r"
done
echo PASS
