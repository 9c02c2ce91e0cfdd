#!/bin/sh
# ulimit_sweep.sh CSVREG WORKDIR - every command under an address-space cap
# (ulimit -v) of 30, 40, 60, 100, 160 and 300 MiB ends within 20 s, by itself:
# exit 0, or exit 1 with "out of memory" on stderr; never a hang (OpenBLAS
# spun forever when it could not map its 128 MiB work buffer: issue 17 item 7)
# and never a signal. Inputs are made without the cap first.
set -u
bin=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
printf 'y,x\n1,2\n2,3.5\n3,4\n4,6\n5,7.5\n' > base.csv
"$bin" fit -y y -o m.json base.csv > /dev/null || exit 1
"$bin" fit -y y --emit-state base.csv > s1.state || exit 1
cp s1.state s2.state
fails=0
run() { # name cmd...
  name=$1
  shift
  for mib in 30 40 60 100 160 300; do
    (
      ulimit -v $((mib * 1024))
      exec timeout -s KILL 20 "$@" > out.txt 2> err.txt
    )
    rc=$?
    ok=0
    if [ $rc -eq 0 ]; then
      ok=1
    elif [ $rc -eq 127 ] && ! (ulimit -v $((mib * 1024)); exec "$bin" --version > /dev/null 2>&1); then
      # the dynamic loader cannot map the program and its shared libraries
      # (the static OpenBLAS, cairo for eval --plot) under this cap: no code of
      # ours runs; said, so that a rising floor shows
      echo "note $name at ${mib} MiB: the loader cannot map the program under this cap"
      ok=2
    elif [ $rc -eq 1 ] && grep -q "out of memory" err.txt; then
      ok=1
    fi
    if [ $ok -eq 0 ]; then
      echo "FAIL $name at ${mib} MiB: exit $rc: $(head -c 300 err.txt)"
      fails=$((fails + 1))
    elif [ $ok -eq 1 ]; then
      echo "ok   $name at ${mib} MiB: exit $rc"
    fi
  done
}
run fit "$bin" fit -y y base.csv
run fit-threads "$bin" fit -y y --threads 2 base.csv
run fit-stdin sh -c "exec \"$bin\" fit -y y - < base.csv"
run fit-state "$bin" fit -y y --emit-state base.csv
run fit-o "$bin" fit -y y -o m2.json base.csv
run predict "$bin" predict -m m.json base.csv
run eval "$bin" eval -m m.json base.csv
run merge "$bin" merge s1.state s2.state
run solve "$bin" solve s1.state s2.state
[ $fails -eq 0 ] || exit 1
echo "all commands ended under every cap"
