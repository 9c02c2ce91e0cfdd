#!/bin/sh
# where.sh PROGRAM K ARGS...: runs PROGRAM with its K-th allocation failing and
# prints where that allocation was made (PROGRAM built with -g for lines).
prog=$1 k=$2
shift 2
CSVREG_FAIL_ALLOC=$k CSVREG_FAIL_ALLOC_TRACE=1 "$prog" "$@" 2>&1 >/dev/null |
  while IFS= read -r line; do
    case $line in
    fault_alloc:*)
      f=${line#fault_alloc: }
      addr2line -e "${f%+*}" -f -i -p -C "${f##*+}" | sed 's|^|  |' ;;
    *) echo "$line" ;;
    esac
  done
