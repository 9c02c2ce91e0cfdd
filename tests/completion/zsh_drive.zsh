# zsh_drive.zsh SCRIPT DATA_DIR TMP: runs the zsh completion script (zsh -f)
# with compadd, _describe, _files, _message and compset replaced by functions
# that collect what would be offered (filtered by PREFIX as zsh would), and
# checks commands, options, values, files and columns as bash_completion.sh.
script=$1
cd $2
fail=0
compadd() {
  local -a ws
  while (( $# )); do
    case $1 in
    -a) ws+=("${(@P)2}"); shift 2 ;;
    --) shift; ws+=("$@"); break ;;
    *) shift ;;
    esac
  done
  local w
  for w in "${ws[@]}"; do [[ $w == ${PREFIX}* ]] && out+=("$IPREFIX$w"); done
}
_describe() { local -a specs=("${(@P)4}"); local s; for s in "${specs[@]}"; do [[ ${s%%:*} == ${PREFIX}* ]] && out+=("${s%%:*}"); done }
_files() { out+=("<files$*>") }
_message() { out+=("<message>") }
compset() {
  [[ $1 == -P ]] || return 1
  local pat=$2
  if [[ $PREFIX == ${~pat}* ]]; then
    local head=${(M)PREFIX##${~pat}}
    IPREFIX+=$head; PREFIX=${PREFIX#$head}
    return 0
  fi
  return 1
}
# zc LINE WANT [AFTER]
zc() {
  local -a out
  local line=$1 want=$2
  words=(csvreg ${(z)line})
  [[ $line == *' ' || -z $line ]] && words+=('')
  CURRENT=${#words}
  words+=(${(z)3})
  PREFIX=${words[CURRENT]} IPREFIX=
  source $script
  local got=${(j: :)${(o)out}}
  if [[ $got != $want ]]; then print -r -- "FAIL: zsh 'csvreg $line<TAB>' gave '$got', expected '$want'"; fail=1; fi
}
cols=${(j: :)${(o)${(s:,:)"$(head -n 1 longley.csv)"}}}
zc "" "eval fit merge predict solve"
zc "f" "fit"
zc "fit --form" "--format --formula"
zc "fit --format " "csv json text"
zc "fit --format=j" "--format=json"
zc "fit --vcov HC" "HC0 HC1 HC2 HC3"
zc "fit lon" "<files>"
zc "fit --spill " "<files-/>"
zc "fit --tol " "<message>"
zc "fit longley.csv -y " "$cols"
zc "fit -y " "$cols" "longley.csv"
zc "fit longley.csv -x GNP,Po" "GNP,Population"
zc "fit longley.csv --features=GNP,Arm" "--features=GNP,Armed.Forces"
zc "fit -d ';' $3/semi.csv -y " "a b b c"
zc "fit --no-header -d tab $3/t.tsv -y " "V1 V2"
zc "fit -d t" "tab"
exit $fail
