#!/bin/sh
# tree.sh CSVREG DOCS - merging in a tree (issue 15): the recipe `tree` of
# docs/engines.md (per-node merges, then a final merge with --expect-bytes)
# run as written: the answer of one pass to 1e-11. A node's state delivered
# twice to the final merge: exit 3. (shard.merge_tree tests the failures
# at every level.)
. "$(dirname "$0")/common.sh"
command -v parallel >/dev/null || fail "GNU parallel is not installed"
gen big.csv 20000 36
csvreg fit -y y --format json big.csv > one.json
recipe tree > tree.sh
cat tree.sh
sh -eu tree.sh > out.json || fail "recipe tree failed"
same one.json out.json "recipe tree (2 nodes of 4 ranges)"
cp node1.state node3.state
if sh -eu tree.sh > bad.json 2> bad.err; then fail "a node's state twice passed"; fi
grep -q "a shard is duplicated" bad.err || fail "a node's state twice: $(cat bad.err)"
echo "a node's state twice: fails: $(grep csvreg: bad.err)"
echo PASS
