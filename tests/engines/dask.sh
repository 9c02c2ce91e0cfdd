#!/bin/sh
# dask.sh CSVREG DOCS - Dask (issue 15): the recipes `dask_fit.py` and
# `dask` of docs/engines.md run as written (a LocalCluster of two worker
# processes on this machine): the answer of one pass to 1e-11. Then with
# shard 3 failing: the pipeline fails and prints no answer. Needs Debian's
# python3-dask and python3-distributed (the python3 of /usr/bin: another
# python3 first on PATH, such as a pyenv one, does not see them).
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
$PY -c 'import dask.bag, dask.distributed' 2>/dev/null ||
  fail "python3-dask and python3-distributed are not installed"
ln -s "$PY" "$T/bin/python3"
gen big.csv 20000 37
csvreg fit -y y --format json big.csv > one.json
recipe dask_fit.py > dask_fit.py
recipe dask > dask.sh
cat dask.sh
t0=$(date +%s.%N)
sh -eu dask.sh > out.json 2> dask.err || { cat dask.err; fail "recipe dask failed"; }
echo "recipe dask: $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s wall"
same one.json out.json "recipe dask (8 ranges on a LocalCluster of 2 processes)"

# one shard fails: compute() raises, nothing reaches merge, no answer
mkdir -p "$T/failbin"
cat > "$T/failbin/csvreg" <<SHIM
#!/bin/sh
for a in "\$@"; do
  [ "\$a" = 3/8 ] && { echo "injected failure of shard 3" >&2; exit 1; }
done
exec "$CSVREG" "\$@"
SHIM
chmod +x "$T/failbin/csvreg"
if PATH="$T/failbin:$PATH" sh -eu dask.sh > bad.json 2> bad.err; then
  fail "the recipe with a failing shard succeeded"
fi
[ ! -s bad.json ] || fail "an answer although a shard failed"
grep -q "injected failure of shard 3" bad.err || fail "shard 3 did not fail: $(tail -5 bad.err)"
grep -q "CalledProcessError" bad.err || fail "no CalledProcessError: $(tail -5 bad.err)"
echo "with shard 3 failing: fails: $(grep 'csvreg:' bad.err | tail -1)"
echo PASS
