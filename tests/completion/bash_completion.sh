#!/bin/bash
# bash_completion.sh CSVREG DATA_DIR - drives `csvreg completion bash` as bash
# would (COMP_WORDS, COMP_CWORD, then COMPREPLY) and checks commands, every
# option of every command's --help, option values, file names and column
# names read from the header of the file on the command line.
set -u
csvreg=$1
data=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

"$csvreg" completion bash >"$tmp/csvreg.bash" || { echo "FAIL: completion bash exited $?"; exit 1; }
bash -n "$tmp/csvreg.bash" || { echo "FAIL: the bash script does not parse"; exit 1; }
# shellcheck source=/dev/null
. "$tmp/csvreg.bash"
complete -p csvreg >/dev/null || { echo "FAIL: no completion registered for csvreg"; exit 1; }

# comp LINE: completes at the end of LINE (a trailing space starts a new
# word; words split as bash does by default, '=' its own word); prints COMPREPLY sorted.
# With AFTER, those words follow the cursor (`csvreg fit -y <TAB> data.csv`).
comp() {
  local line=$1 after=${2:-}
  local -a w a
  read -r -a w <<<"${line//=/ = }"
  read -r -a a <<<"$after"
  [[ $line == *" " || -z $line ]] && w+=("")
  # "--format=" ends in '=': the cursor word is '='
  COMP_WORDS=(csvreg "${w[@]}")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_WORDS+=("${a[@]}")
  COMP_LINE="csvreg $line" COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _csvreg csvreg "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect LINE WANT [AFTER]: the completions of LINE are exactly WANT (sorted,
# space-separated).
expect() {
  local got
  got=$(comp "$1" "${3:-}")
  if [[ $got != "$2" ]]; then
    echo "FAIL: 'csvreg $1<TAB>' gave '$got', expected '$2'"
    fail=1
  fi
}

# has LINE WORD...: the completions of LINE include each WORD.
has() {
  local line=$1 got w
  shift
  got=" $(comp "$line") "
  for w in "$@"; do
    if [[ $got != *" $w "* ]]; then
      echo "FAIL: 'csvreg $line<TAB>' lacks '$w' (gave:$got)"
      fail=1
    fi
  done
}

cd "$data" || exit 1

# Commands.
expect "" "--help --version eval fit merge predict solve"
expect "f" "fit"
expect "pr" "predict"

# Every option each command's --help defines ("  -y, --target COL   ..." or
# "      --quiet   ...") completes, with its short letter; and every long
# option that completes is named somewhere in --help.
for cmd in fit predict eval merge solve; do
  "$csvreg" $cmd --help >"$tmp/help" || { echo "FAIL: $cmd --help"; fail=1; }
  opts=" $(comp "$cmd -") "
  defined=$(sed -nE 's/^ +(-[A-Za-z0-9], )?(--[a-z0-9][a-z0-9-]*).*/\1\2/p' "$tmp/help")
  [ -n "$defined" ] || { echo "FAIL: no options found in $cmd --help"; fail=1; }
  while IFS= read -r d; do
    long=${d##*, }
    if [[ $opts != *" $long "* ]]; then
      echo "FAIL: $cmd: $long (in --help) does not complete"
      fail=1
    fi
    if [[ $d == -?,* && $opts != *" ${d%%,*} "* ]]; then
      echo "FAIL: $cmd: ${d%%,*} (in --help) does not complete"
      fail=1
    fi
  done <<<"$defined"
  named=" $(grep -oE -- '--[a-z0-9][a-z0-9-]*' "$tmp/help" | tr '\n' ' ') "
  for o in $opts; do
    if [[ $o == --* && $named != *" $o "* ]]; then
      echo "FAIL: $cmd: $o completes but $cmd --help does not name it"
      fail=1
    fi
  done
done
expect "fit --form" "--format --formula"
expect "predict --na" "--na-policy"

# Option values.
expect "fit --format " "csv json text"
expect "fit --format=j" "json"
expect "fit --format=" "csv json text"
expect "eval -m model.json --format c" "csv"
expect "fit --decompress " "auto none"
expect "fit --vcov HC" "HC0 HC1 HC2 HC3"
expect "fit --vcov cl" "classical cluster"
expect "fit --solver " "normal qr"
expect "predict --interval " "confidence prediction"
expect "fit -d t" "tab"
expect "fit --tol " ""
expect "fit --threads " ""

# File names: operands and file-valued options.
has "fit lon" longley.csv
has "fit -y Employed -o lon" longley.csv
has "predict -m lon" longley.csv

# Columns from the header of the file on the command line, before or after
# the cursor; -x lists are completed after the last comma; -d is honoured.
head -n 1 longley.csv | tr ',' '\n' | sed 's/^"\(.*\)"$/\1/' | sort >"$tmp/cols"
all=$(tr '\n' ' ' <"$tmp/cols" | sed 's/ $//')
expect "fit longley.csv -y " "$all"
expect "fit -y " ""
expect "fit -y " "$all" "longley.csv"
expect "fit -y Employed -x GNP,Po" "GNP,Population" "longley.csv"
expect "fit longley.csv -y Employed -x GNP,Po" "GNP,Population"
expect "fit longley.csv -y Employed --features=GNP,Arm" "GNP,Armed.Forces"
expect "fit longley.csv -w Arm" "Armed.Forces"
expect "fit longley.csv --factor=Y" "Year"
expect "fit longley.csv --vcov cluster --cluster Ye" "Year"
expect "fit longley.csv -yEm" ""  # an attached value: not completed
printf 'a;b b;"c"\n1;2;3\n' >"$tmp/semi.csv"
expect "fit $tmp/semi.csv -d ';' -y " "a b\\ b c"
expect "fit $tmp/semi.csv -d\\; -y " "a b\\ b c"
printf 'u\tv\r\n1\t2\r\n' >"$tmp/t.tsv"
expect "fit -d tab $tmp/t.tsv -y " "u v"
expect "fit --no-header -d tab $tmp/t.tsv -y " "V1 V2"
gzip -c longley.csv >"$tmp/longley.csv.gz"
expect "fit $tmp/longley.csv.gz -y Emp" "Employed"

exit $fail
