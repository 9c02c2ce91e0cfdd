#!/bin/sh
# zsh_completion.sh CSVREG DATA_DIR - `csvreg completion zsh`: an autoload file
# (#compdef csvreg) naming every option the bash script completes, with the
# same value kinds (the tables are printed by the same code); parsed by
# `zsh -n`, driven by zsh_drive.zsh (compsys stubbed) and by zsh_real.zsh
# (compinit in a pseudo-terminal, TAB pressed). zsh is required.
set -u
csvreg=$1
data=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
"$csvreg" completion zsh >"$tmp/_csvreg" || { echo "FAIL: completion zsh exited $?"; exit 1; }
"$csvreg" completion bash >"$tmp/csvreg.bash" || exit 1
[ "$(head -n 1 "$tmp/_csvreg")" = "#compdef csvreg" ] || { echo "FAIL: first line is not #compdef csvreg"; fail=1; }
# The option and value tables of the two scripts are the same text.
tables() { sed -n '/^_csvreg_commands=/,/^_csvreg_kind() {/p;/^_csvreg_kind() {/,/^}/p' "$1"; }
tables "$tmp/_csvreg" >"$tmp/z"
tables "$tmp/csvreg.bash" >"$tmp/b"
[ -s "$tmp/z" ] && cmp -s "$tmp/z" "$tmp/b" || { diff "$tmp/b" "$tmp/z"; echo "FAIL: the zsh tables differ from bash's"; fail=1; }
# Every option has a described entry: '--target:the column to predict ...'.
grep -q "'--target:the column to predict" "$tmp/_csvreg" || { echo "FAIL: no description for --target"; fail=1; }
grep -q "'-y:the column to predict" "$tmp/_csvreg" || { echo "FAIL: no description for -y"; fail=1; }
for o in $(sed -n "s/^  [a-z]*) _csvreg_r='\\(.*\\)' ;;$/\\1/p" "$tmp/csvreg.bash" | tr ' ' '\n' | sort -u); do
  grep -q -- "^      '$o[:']" "$tmp/_csvreg" || { echo "FAIL: zsh lists no $o"; fail=1; }
done
# ZSH may name a zsh that is not on PATH (an unpacked zsh package).
zsh=${ZSH:-$(command -v zsh)}
if [ -n "$zsh" ]; then
  "$zsh" -n "$tmp/_csvreg" || { echo "FAIL: zsh -n"; fail=1; }
  printf 'a;b b;"c"\n1;2;3\n' >"$tmp/semi.csv"
  printf 'u\tv\r\n1\t2\r\n' >"$tmp/t.tsv"
  "$zsh" -f "$(dirname "$0")/zsh_drive.zsh" "$tmp/_csvreg" "$data" "$tmp" || fail=1
  # and through zsh's completion system itself (compinit, TAB in a pty)
  "$zsh" -f "$(dirname "$0")/zsh_real.zsh" "$tmp" "$data" "$tmp" || fail=1
else
  # zsh is in .ci/run's packages and the README's first command: missing
  # here means the machine was not set up as they say
  echo "FAIL: zsh not installed (apt-get install zsh)"
  fail=1
fi
exit $fail
