#!/bin/sh
# check_readme_packages.sh ROOT - the README's first command installs the
# packages .ci/run installs (less the tools only .ci/run's own stages use:
# clang for the sanitizer build and fuzzing, valgrind), so that its second
# command, the test suite, holds on a fresh machine. Lists what differs.
set -eu
root=${1:?usage: check_readme_packages.sh ROOT}
ci=$(sed -n '/apt-get install -y -q --no-install-recommends/,/[^\\]$/p' "$root/.ci/run" |
  tr -d '\\' | tr -s ' \n' '\n' | grep -v -e '^-' -e '^$' -e apt-get -e install -e '\$SUDO' |
  grep -v -x -e clang-14 -e libclang-rt-14-dev -e valgrind | sort -u)
readme=$(grep -m1 'apt-get install' "$root/README.md" | sed 's/.*apt-get install//; s/&&.*//' |
  tr -s ' ' '\n' | grep -v -e '^-' -e '^$' | sort -u)
diff=$(printf '%s\n' "$ci" | comm -3 - "$(printf '%s\n' "$readme" > "${TMPDIR:-/tmp}/readme_pk.$$" && echo "${TMPDIR:-/tmp}/readme_pk.$$")" || true)
rm -f "${TMPDIR:-/tmp}/readme_pk.$$"
if [ -n "$diff" ]; then
  echo "check_readme_packages: .ci/run (left) and the README (right) install different packages:"
  printf '%s\n' "$diff"
  exit 1
fi
echo "the README installs the $(printf '%s\n' "$readme" | wc -l) packages .ci/run does"
