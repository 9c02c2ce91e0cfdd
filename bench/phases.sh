#!/usr/bin/env bash
# bench/phases.sh - where one csvreg run's time goes, thread by thread, without relying on wall
# time under load (issue 14): uprobes on the once-a-run functions (main, cmd_fit_run,
# csvreg_pass_open, csvreg_pass_run, run_range, acc_merge, csvreg__pool_finish; entry and
# return) and system-wide scheduler events (sched_switch, sched_wakeup), recorded with perf for
# RUNS runs of the command; bench/phases.py then gives each thread's CPU (time on a vCPU),
# runnable-waiting time (wanted a vCPU, another task had it: load) and sleeping time, and the CPU
# of every phase between the probes, medians over the runs. Needs root (uprobes, tracepoints) and
# a build with its symbols (the Release build keeps them).
#
# usage: bench/phases.sh RUNS CSVREG ARGS...
# example:
#   bench/phases.sh 5 build/csvreg fit -y y --quiet --threads 2 /work/benchdata/clean-2M.csv
set -eu
[ $# -ge 3 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
runs=$1 bin=$(realpath "$2")
shift 2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
group=csvphase$$
cleanup() { perf probe -q -d "$group:*" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
addr() { nm "$bin" | awk -v s="$1" '$3 == s || index($3, s ".") == 1 { print "0x" $1; exit }'; }
for f in main cmd_fit_run csvreg_pass_open csvreg_pass_run run_range acc_merge csvreg__pool_finish; do
  a=$(addr "$f")
  [ -n "$a" ] || { echo "phases.sh: no symbol $f in $bin" >&2; continue; }
  perf probe -q -x "$bin" -a "$group:$f=$a" && perf probe -q -x "$bin" -a "$group:${f}_ret=$a%return"
done
for i in $(seq "$runs"); do
  perf record -q -a -o "$dir/r$i.data" -e "$group:*" -e sched:sched_switch -e sched:sched_wakeup \
    -e sched:sched_wakeup_new -e sched:sched_process_exec -e sched:sched_process_exit \
    -- "$bin" "$@" >/dev/null 2>"$dir/r$i.err" || { cat "$dir/r$i.err" >&2; exit 1; }
  perf script -i "$dir/r$i.data" -F tid,pid,cpu,time,event,trace >"$dir/r$i.txt" 2>/dev/null
done
python3 "$here/phases.py" "$dir"/r*.txt
