#!/bin/sh
# hadoop_quoted.sh CSVREG DOCS - quoted newlines across Hadoop split
# boundaries (issue 15). fake-hadoop splits as LineRecordReader does (byte
# offsets, a line ends at LF, inside quotes too). On a file whose quoted
# fields hold line feeds:
# - the recipe `hadoop` as written fails: its `wc -l` count is not the
#   record count (exit 3 from the reducer, the job fails);
# - with the true record count, a split cut inside a quoted field fails
#   loudly: the mapper before the cut ends inside quotes ("unterminated
#   quoted field", exit 3; the job fails, exit 1); a run never passes with
#   a wrong answer: each either fails so or gives the single pass;
# - what the docs recommend works: the recipe `ranges` (records aligned by
#   the quote-parity scan) and a whole file given to one mapper.
. "$(dirname "$0")/common.sh"
command -v parallel >/dev/null || fail "GNU parallel is not installed"
ln -s "$HERE/fake-hadoop" "$T/bin/hadoop"
ln -s "$HERE/fake-hadoop" "$T/bin/hdfs"
python3 - <<'PY'
import random
r = random.Random(38)
with open("big.csv", "w", newline="") as f:
    f.write("note,x1,x2,x3,y\n")
    for i in range(20000):
        a, b, c = r.gauss(0, 1), r.gauss(5, 2), r.uniform(-1e3, 1e3)
        note = r.choice(["plain", '"two\nlines"', '"a, b"', '"x\n""y""\nz"'])
        f.write("%s,%r,%r,%r,%r\n" % (note, a, b, c, 1 + 2 * a - 0.5 * b + 1e-3 * c + r.gauss(0, 0.3)))
PY
csvreg fit -y y --format json big.csv > one.json
records=$(csvreg fit --emit-state -y y big.csv | python3 -c 'import json, sys; print(json.load(sys.stdin)["meta"]["records"])')
[ "$records" = 20000 ] || fail "records $records"
recipe hadoop > recipe.sh

# 1. as written: wc -l counts the quoted line feeds too
rm -rf states
if FAKE_HADOOP_SPLITS=5 sh -eu recipe.sh > out.json 2> err; then fail "the recipe passed on quoted newlines"; fi
grep -q "the states hold 20000 records" err || fail "recipe as written: $(cat err)"
echo "recipe hadoop as written on quoted newlines: fails: $(grep csvreg: err)"

# 2. the true count: a cut inside a quoted field fails the mapper before it
sed "s/--expect-records [^\"]*\"/--expect-records $records\"/" recipe.sh > counted.sh
grep -q -- "--expect-records 20000\"" counted.sh || fail "could not set the count"
failed=0
for k in 5 13 31; do
  rm -rf states
  set +e
  FAKE_HADOOP_SPLITS=$k sh -eu counted.sh > out.json 2> err
  rc=$?
  set -e
  if [ $rc = 0 ]; then
    same one.json out.json "$k splits, no cut inside quotes"
  else
    [ $rc = 1 ] || fail "$k splits: exit $rc"
    grep -q "unterminated quoted field" err || fail "$k splits: $(cat err)"
    grep -q "fake-hadoop: mapper of split [0-9]* failed (exit 3)" err || fail "$k splits: $(cat err)"
    echo "$k splits: fails loudly: $(grep -h 'csvreg:\|fake-hadoop:' err | tr '\n' ' ')"
    failed=$((failed + 1))
  fi
done
[ $failed -gt 0 ] || fail "no split was cut inside a quoted field"

# 3. what to do instead: ranges aligned at records, or whole files
recipe ranges > ranges.sh
sh -eu ranges.sh > out.json || fail "recipe ranges failed"
same one.json out.json "recipe ranges on quoted newlines"
rm -rf states
FAKE_HADOOP_SPLITS=1 sh -eu counted.sh > out.json || fail "a whole file to one mapper failed"
same one.json out.json "a whole file to one mapper"
echo PASS
