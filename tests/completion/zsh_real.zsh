# zsh_real.zsh FPATH_DIR DATA_DIR TMP: the zsh completion script run by zsh's
# own completion system, as at a terminal: an interactive zsh in a
# pseudo-terminal (zsh/zpty) runs compinit with FPATH_DIR (holding _csvreg)
# first in $fpath, a line is typed and TAB (complete-word) pressed. The real
# compadd runs; a wrapper around it (the technique of zsh-capture-completion)
# prints each match it added between two NUL lines.
# Checks what zsh_drive.zsh checks with stubs, now through compsys itself.
zmodload zsh/zpty || { print -r -- "FAIL: no zsh/zpty module"; exit 1 }
fdir=$1 data=$2 tmp=$3
fail=0

# complete LINE: the sorted matches TAB offers at the end of LINE (a new
# shell each time: compprefuncs/comppostfuncs frame the matches with NULs and
# the shell exits after the completion)
complete() {
  local line=$1 chunk buf=
  zpty z zsh -f -i || return 1
  zpty -w z "cd ${(q)data}; fpath=(${(q)fdir} \$fpath); PROMPT=''; RPROMPT=''; autoload -Uz compinit; compinit -u -D"
  zpty -w z 'bindkey "^I" complete-word; zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
  zpty -w z 'null-line() { echo -E - $'"'"'\0'"'"' }; compprefuncs=(null-line); comppostfuncs=(null-line exit)'
  zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; local -a __hits; builtin compadd -A __hits "$@"; local h; for h in $__hits; do echo -E - "<<$IPREFIX$h>>"; done }'
  zpty -w z "$line"$'\t'
  integer tries=0
  while (( tries++ < 1200 )); do
    if zpty -r -t z chunk 2>/dev/null; then
      buf+=$chunk
      [[ $buf == *$'\0'*$'\0'* ]] && break
    else
      sleep 0.05
    fi
  done
  zpty -d z
  [[ $buf == *$'\0'*$'\0'* ]] || { print -r -- "no answer from zsh"; return 1 }
  local mid=${buf#*$'\0'}
  mid=${mid%%$'\0'*}
  local -a hits=(${(M)${(f)mid}:#*\<\<*\>\>*})
  hits=(${${hits#*<<}%>>*})
  print -r -- ${(j: :)${(ou)hits}}
}
# zc LINE WANT: TAB after `csvreg LINE` offers exactly WANT (sorted, spaces)
zc() {
  local got
  complete "csvreg $1" >$tmp/zsh_real.out
  got=$(<$tmp/zsh_real.out)
  if [[ $got != $2 ]]; then
    print -r -- "FAIL: zsh 'csvreg $1<TAB>' gave '$got', expected '$2'"
    fail=1
  else
    print -r -- "ok: csvreg $1<TAB> -> $got"
  fi
}
cols=${(j: :)${(o)${(s:,:)"$(head -n 1 $data/longley.csv)"}}}
zc "" "eval fit merge predict solve"
zc "fit --form" "--format --formula"
zc "fit --vcov HC" "HC0 HC1 HC2 HC3"
zc "fit lon" "longley.csv"
zc "fit longley.csv -y " "$cols"
zc "fit longley.csv -x GNP,Po" "GNP,Population"
zc "eval --bad" "--bad-rows"
zc "fit -d ';' $tmp/semi.csv -y " 'a b\ b c' # the name "b b", quoted for the line
exit $fail
