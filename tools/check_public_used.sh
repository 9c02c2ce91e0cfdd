#!/bin/sh
# check_public_used.sh ROOT - every function include/csvreg.h declares
# (CSVREG_API) is called by the program (src/cli), a test, a fuzz target or
# an example: a public function nobody uses is untested surface that must
# still be kept stable. Lists the unused ones; exits 1 when there is one.
set -eu
root=${1:?usage: check_public_used.sh ROOT}
cd "$root"
names=$(grep -oE 'CSVREG_API[^(;]*\bcsvreg_[a-z0-9_]+\(' include/csvreg.h |
  grep -oE 'csvreg_[a-z0-9_]+\($' | tr -d '(' | sort -u)
bad=0
for n in $names; do
  if ! grep -rqw --include='*.c' --include='*.cc' --include='*.h' "$n" src/cli tests fuzz examples; then
    echo "check_public_used: $n is declared in include/csvreg.h and used by no caller" >&2
    bad=1
  fi
done
[ "$bad" = 0 ] || exit 1
echo "check_public_used: all $(echo "$names" | wc -l) public functions have a caller"
