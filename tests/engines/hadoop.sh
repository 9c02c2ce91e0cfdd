#!/bin/sh
# hadoop.sh CSVREG DOCS - the Hadoop Streaming contract (issue 15): the
# recipe `hadoop` of docs/engines.md run as written with fake-hadoop (a
# LineRecordReader splitter: BOM dropped, CRLF -> LF, the key<TAB>value and
# trailing-tab forms) on a file with a BOM and CRLF line ends: exit 0 and
# the single-pass answer (1e-11). The same splits checked with --expect-bytes
# fail (exit 3): the bytes no longer add up. A split delivered twice fails.
. "$(dirname "$0")/common.sh"
ln -s "$HERE/fake-hadoop" "$T/bin/hadoop"
ln -s "$HERE/fake-hadoop" "$T/bin/hdfs"
gen big.csv 20000 34 bom crlf
csvreg fit -y y --format json big.csv > one.json
recipe hadoop > recipe.sh
cat recipe.sh
for keyed in 0 1; do
  for splits in 1 5 13; do
    rm -rf states
    FAKE_HADOOP_KEYED=$keyed FAKE_HADOOP_SPLITS=$splits sh -eu recipe.sh > out.json ||
      fail "recipe hadoop failed ($splits splits, keyed $keyed)"
    same one.json out.json "recipe hadoop, $splits splits, keyed $keyed"
  done
done

# --expect-bytes cannot survive the normalisation: exit 3 from the reducer
sed 's/--expect-records [^"]*"/--expect-bytes $(stat -c%s big.csv)"/' recipe.sh > bytes.sh
grep -q -- "--expect-bytes" bytes.sh || fail "could not make the --expect-bytes variant"
rm -rf states
if sh -eu bytes.sh > bad.json 2> bad.err; then fail "--expect-bytes after CRLF -> LF passed"; fi
grep -q "a shard is missing" bad.err || fail "--expect-bytes: $(cat bad.err)"
echo "--expect-bytes on normalised splits: fails as documented: $(grep 'csvreg:' bad.err)"

# a split whose output is delivered twice (a retried task kept): exit 3
python3 - big.csv > split2.txt <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
sys.stdout.buffer.write(data[data.index(b"\n", len(data) // 2) + 1:].replace(b"\r\n", b"\n"))
PY
csvreg fit --emit-state --header-line "$(head -1 big.csv)" -y y - < split2.txt > s2.state
set +e
cat s2.state s2.state | csvreg merge > /dev/null 2> dup.err
rc=$?
set -e
[ $rc = 3 ] || fail "a split delivered twice: exit $rc $(cat dup.err)"
echo "a split delivered twice: exit 3"
echo PASS
