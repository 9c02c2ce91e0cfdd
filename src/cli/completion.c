/*
 * completion.c - `csvreg completion bash|zsh`: the shell completion scripts,
 * made from the same tables the commands parse with. Each command hands its
 * getopt_long tables to opt_check_words before anything else, so asking it
 * for them (cli_option_capture) lists every option it accepts, including
 * ones added later; option descriptions (zsh) come from its --help text. Only
 * what an option's value is (a column, a file, one of a few words) is known
 * here, in value_rules; an option not listed there completes file names.
 * tests/completion checks every option of --help completes and drives the
 * bash script as the shell would.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

cli_option_tables *cli_option_capture;

/* What an option's value is, by long name. "@col" one column of the input's
 * header, "@cols" a comma-separated list of them, "@delim" the delimiter,
 * "@file" a file name (the default), "@dir" a directory, "@none" a number or
 * free text; anything else is the words the option accepts. */
typedef struct value_rule {
  const char *command; /* NULL: every command */
  const char *option;
  const char *values;
} value_rule;

static const value_rule value_rules[] = {
    {NULL, "target", "@col"},
    {NULL, "weights", "@col"},
    {NULL, "features", "@cols"},
    {NULL, "factor", "@cols"},
    {NULL, "cluster", "@cols"},
    {NULL, "delimiter", "@delim"},
    {NULL, "format", "text json csv"},
    {NULL, "decompress", "auto none"},
    {NULL, "vcov", "classical HC0 HC1 HC2 HC3 cluster"},
    {NULL, "solver", "qr normal"},
    {NULL, "interval", "confidence prediction"},
    {NULL, "na-policy", "empty error"},
    {NULL, "spill", "@dir"},
    {NULL, "formula", "@none"},
    {NULL, "na", "@none"},
    {NULL, "chunk-rows", "@none"},
    {NULL, "max-levels", "@none"},
    {NULL, "max-clusters", "@none"},
    {NULL, "tol", "@none"},
    {NULL, "level", "@none"},
    {NULL, "holdout", "@none"},
    {NULL, "cv", "@none"},
    {NULL, "seed", "@none"},
    {NULL, "range", "@none"},
    {NULL, "bytes", "@none"},
    {NULL, "threads", "@none"},
    {NULL, "decay", "@none"},
    {NULL, "columns", "@none"},
    {NULL, "header-line", "@none"},
    {NULL, "shard-id", "@none"},
    {NULL, "column", "@none"},
    {NULL, "expect-rows", "@none"},
    {NULL, "expect-records", "@none"},
    {NULL, "expect-used", "@none"},
    {NULL, "expect-bytes", "@none"},
};

static const char *value_kind(const char *command, const char *option) {
  for (size_t i = 0; i < sizeof value_rules / sizeof value_rules[0]; i++) {
    const value_rule *r = &value_rules[i];
    if ((!r->command || strcmp(r->command, command) == 0) && strcmp(r->option, option) == 0)
      return r->values;
  }
  return "@file";
}

/* One command as the scripts see it. */
typedef struct command_info {
  const cli_command *cmd;
  cli_option_tables tables; /* zeroed when the command never asked opt_check_words */
  char *help;               /* its --help text (NULL when out of memory) */
} command_info;

static void command_info_load(command_info *ci, const cli_command *cmd) {
  memset(ci, 0, sizeof *ci);
  ci->cmd = cmd;
  char *argv[] = {(char *)cmd->name, NULL};
  cli_option_capture = &ci->tables;
  cmd->run(1, argv);
  cli_option_capture = NULL;
  size_t len;
  FILE *fp = open_memstream(&ci->help, &len);
  if (fp) {
    cmd->usage(fp);
    if (fclose(fp) != 0) {
      free(ci->help);
      ci->help = NULL;
    }
  }
}

/* The long option whose short letter `c` is, if it has one. */
static const struct option *long_of(const command_info *ci, int c) {
  for (const struct option *o = ci->tables.longopts; o && o->name; o++)
    if (o->val == c)
      return o;
  return NULL;
}

/* Calls fn for each option word of the command: "-y" then "--target", ...,
 * with the long name (NULL for a letter with no long form) and whether it
 * takes a value. */
typedef void (*option_fn)(const command_info *ci, const char *word, const char *long_name,
                          int has_arg, void *ctx);

static int is_short(const command_info *ci, int c) {
  const char *s = ci->tables.shortopts;
  return s && c > 0 && c < 128 && c != ':' && strchr(s, c);
}

static void each_option(const command_info *ci, option_fn fn, void *ctx) {
  char word[4];
  const char *s = ci->tables.shortopts ? ci->tables.shortopts : "";
  for (const struct option *o = ci->tables.longopts; o && o->name; o++) {
    if (is_short(ci, o->val)) {
      snprintf(word, sizeof word, "-%c", o->val);
      fn(ci, word, o->name, o->has_arg == required_argument, ctx);
    }
    size_t n = strlen(o->name) + 3;
    char *lw = malloc(n);
    if (lw) {
      snprintf(lw, n, "--%s", o->name);
      fn(ci, lw, o->name, o->has_arg == required_argument, ctx);
      free(lw);
    }
  }
  for (const char *p = s; *p; p++)
    if (*p != ':' && !long_of(ci, *p)) {
      snprintf(word, sizeof word, "-%c", *p);
      fn(ci, word, NULL, p[1] == ':', ctx);
    }
}

/* 'text' with ' written as '\'' (a shell word). */
static void put_quoted(FILE *out, const char *text, size_t n) {
  fputc('\'', out);
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '\'')
      fputs("'\\''", out);
    else
      fputc(text[i], out);
  }
  fputc('\'', out);
}

/* The first line of the description of --name in the help text: the text
 * after "  -c, --name ARG  " on the line that defines it, or the next line
 * when that one ends there. Sets *n to 0 when there is none. */
static const char *help_description(const char *help, const char *name, size_t *n) {
  *n = 0;
  if (!help)
    return NULL;
  size_t len = strlen(name);
  for (const char *line = help; *line;) {
    const char *end = strchr(line, '\n');
    if (!end)
      end = line + strlen(line);
    const char *p = line;
    while (p < end && *p == ' ')
      p++;
    /* "  -y, --target COL", "  FORMULA, -f, --formula FORMULA": names
     * separated by ", " before the long one */
    int found = 0;
    while (p > line && p < end) {
      if ((size_t)(end - p) >= len + 2 && strncmp(p, "--", 2) == 0 &&
          strncmp(p + 2, name, len) == 0 && (p + 2 + len == end || p[2 + len] == ' ')) {
        found = 1;
        break;
      }
      const char *t = p;
      while (t < end && *t != ',' && *t != ' ')
        t++;
      if (end - t < 2 || t[0] != ',' || t[1] != ' ')
        break;
      p = t + 2;
    }
    if (found) {
      p += 2 + len;
      if (end - p > 1 && p[0] == ' ' && p[1] != ' ') { /* the value's name: " COL" */
        p++;
        while (p < end && *p != ' ')
          p++;
      }
      while (p < end && *p == ' ')
        p++;
      if (p == end && *end) { /* the description starts on the next line */
        p = end + 1;
        end = strchr(p, '\n');
        if (!end)
          end = p + strlen(p);
        while (p < end && *p == ' ')
          p++;
      }
      while (end > p && (end[-1] == ' ' || end[-1] == '\r'))
        end--;
      *n = (size_t)(end - p);
      return p;
    }
    line = *end ? end + 1 : end;
  }
  return NULL;
}

typedef struct word_list {
  FILE *out;
  int first;
} word_list;

static void put_word(const command_info *ci, const char *word, const char *long_name, int has_arg,
                     void *ctx) {
  (void)ci, (void)long_name, (void)has_arg;
  word_list *wl = ctx;
  fprintf(wl->out, "%s%s", wl->first ? "" : " ", word);
  wl->first = 0;
}

static void put_kind(const command_info *ci, const char *word, const char *long_name, int has_arg,
                     void *ctx) {
  FILE *out = ctx;
  if (!has_arg)
    return;
  const char *kind = long_name ? value_kind(ci->cmd->name, long_name) : "@file";
  fprintf(out, "  '%s %s') _csvreg_r='%s' ;;\n", ci->cmd->name, word, kind);
}

static void put_described(const command_info *ci, const char *word, const char *long_name,
                          int has_arg, void *ctx) {
  FILE *out = ctx;
  (void)has_arg;
  size_t n = 0;
  const char *d = long_name ? help_description(ci->help, long_name, &n) : NULL;
  fputs("      ", out);
  size_t wl = strlen(word), total = wl + 1 + n;
  char *spec = malloc(total + 1);
  if (!spec)
    return;
  memcpy(spec, word, wl);
  spec[wl] = ':';
  if (n)
    memcpy(spec + wl + 1, d, n);
  spec[total] = '\0';
  put_quoted(out, spec, n ? total : wl);
  free(spec);
  fputc('\n', out);
}

/* ---- the scripts' fixed parts (kept as shell; indented as shfmt -i 2) ---- */

static const char shell_common[] =
    "# _csvreg_walk COMMAND WORD...: reads the words between the command and the\n"
    "# cursor as the command's getopt_long would. Sets _csvreg_file (the first\n"
    "# operand that names a file), _csvreg_delim (-d), _csvreg_noheader, and\n"
    "# _csvreg_pending (the option whose value the cursor word is, or empty).\n"
    "_csvreg_walk() {\n"
    "  _csvreg_cmd=$1\n"
    "  shift\n"
    "  _csvreg_file= _csvreg_delim=, _csvreg_noheader= _csvreg_pending= _csvreg_ended=\n"
    "  while [ $# -gt 0 ]; do\n"
    "    _csvreg_w=$1\n"
    "    shift\n"
    "    if [ -n \"$_csvreg_ended\" ]; then\n"
    "      _csvreg_operand \"$_csvreg_w\"\n"
    "      continue\n"
    "    fi\n"
    "    case $_csvreg_w in\n"
    "    --) _csvreg_ended=1 ;;\n"
    "    --no-header) _csvreg_noheader=1 ;;\n"
    "    --*=*) _csvreg_value \"${_csvreg_w%%=*}\" \"${_csvreg_w#*=}\" ;;\n"
    "    --?*)\n"
    "      _csvreg_kind \"$_csvreg_cmd\" \"$_csvreg_w\"\n"
    "      if [ -n \"$_csvreg_r\" ]; then\n"
    "        if [ $# -eq 0 ]; then\n"
    "          _csvreg_pending=$_csvreg_w\n"
    "        else\n"
    "          _csvreg_value \"$_csvreg_w\" \"$1\"\n"
    "          shift\n"
    "        fi\n"
    "      fi\n"
    "      ;;\n"
    "    -?*) # a cluster of letters: -qy COL, -yCOL\n"
    "      _csvreg_rest=${_csvreg_w#-}\n"
    "      while [ -n \"$_csvreg_rest\" ]; do\n"
    "        _csvreg_l=${_csvreg_rest%\"${_csvreg_rest#?}\"}\n"
    "        _csvreg_rest=${_csvreg_rest#?}\n"
    "        _csvreg_kind \"$_csvreg_cmd\" \"-$_csvreg_l\"\n"
    "        if [ -n \"$_csvreg_r\" ]; then\n"
    "          if [ -n \"$_csvreg_rest\" ]; then\n"
    "            _csvreg_value \"-$_csvreg_l\" \"$_csvreg_rest\"\n"
    "          elif [ $# -eq 0 ]; then\n"
    "            _csvreg_pending=-$_csvreg_l\n"
    "          else\n"
    "            _csvreg_value \"-$_csvreg_l\" \"$1\"\n"
    "            shift\n"
    "          fi\n"
    "          break\n"
    "        fi\n"
    "      done\n"
    "      ;;\n"
    "    *) _csvreg_operand \"$_csvreg_w\" ;;\n"
    "    esac\n"
    "  done\n"
    "}\n"
    "\n"
    "# A word as typed ('x', \"x\", \\x, ~/x) as the shell will pass it, in _csvreg_u.\n"
    "_csvreg_unquote() {\n"
    "  _csvreg_u=$1\n"
    "  case $_csvreg_u in\n"
    "  \\'*\\' | \\\"*\\\")\n"
    "    _csvreg_u=${_csvreg_u#?}\n"
    "    _csvreg_u=${_csvreg_u%?}\n"
    "    ;;\n"
    "  *\\\\*) _csvreg_u=$(printf '%s\\n' \"$_csvreg_u\" | sed 's/\\\\\\(.\\)/\\1/g') ;;\n"
    "  \"~/\"*) _csvreg_u=$HOME/${_csvreg_u#\"~/\"} ;;\n"
    "  esac\n"
    "}\n"
    "\n"
    "# An option's value: the delimiter is remembered for reading the header.\n"
    "_csvreg_value() {\n"
    "  _csvreg_kind \"$_csvreg_cmd\" \"$1\"\n"
    "  if [ \"$_csvreg_r\" = @delim ]; then\n"
    "    _csvreg_unquote \"$2\"\n"
    "    _csvreg_delim=$_csvreg_u\n"
    "  fi\n"
    "}\n"
    "\n"
    "# An operand: the first one that names a file is the CSV input.\n"
    "_csvreg_operand() {\n"
    "  [ -z \"$_csvreg_file\" ] || return 0\n"
    "  _csvreg_unquote \"$1\"\n"
    "  if [ -f \"$_csvreg_u\" ]; then _csvreg_file=$_csvreg_u; fi\n"
    "}\n"
    "\n"
    "# The column names in the header of _csvreg_file (its first line, split at\n"
    "# the -d delimiter), one a line; V1, V2, ... with --no-header.\n"
    "_csvreg_columns() {\n"
    "  [ -n \"$_csvreg_file\" ] && [ -r \"$_csvreg_file\" ] || return 0\n"
    "  case $_csvreg_delim in\n"
    "  tab | '\\t') set -- \"$(printf '\\t')\" ;;\n"
    "  *) set -- \"$_csvreg_delim\" ;;\n"
    "  esac\n"
    "  case $_csvreg_file in\n"
    "  *.gz) gzip -dc -- \"$_csvreg_file\" ;;\n"
    "  *.zst) zstd -dcq -- \"$_csvreg_file\" ;;\n"
    "  *.xz) xz -dc -- \"$_csvreg_file\" ;;\n"
    "  *.bz2) bzip2 -dc -- \"$_csvreg_file\" ;;\n"
    "  *) cat -- \"$_csvreg_file\" ;;\n"
    "  esac 2>/dev/null | head -n 1 | tr -d '\\r' | tr \"$1\" '\\n' |\n"
    "    sed -e '1s/^\\xef\\xbb\\xbf//' -e 's/^\"\\(.*\\)\"$/\\1/' -e 's/\"\"/\"/g' |\n"
    "    if [ -n \"$_csvreg_noheader\" ]; then awk '{ print \"V\" NR }'; else cat; fi\n"
    "}\n";

static const char bash_front[] =
    "_csvreg() {\n"
    "  local _csvreg_r _csvreg_cmd _csvreg_file _csvreg_delim _csvreg_noheader _csvreg_pending\n"
    "  local _csvreg_ended _csvreg_w _csvreg_rest _csvreg_l _csvreg_u\n"
    "  local cur=${COMP_WORDS[COMP_CWORD]} n=$COMP_CWORD opt= kind i w name pre part q\n"
    "  local -a args\n"
    "  COMPREPLY=()\n"
    "  # COMP_WORDBREAKS splits --opt=value into three words: join them again.\n"
    "  if [[ $cur == = && $n -ge 2 && ${COMP_WORDS[n - 1]} == --?* ]]; then\n"
    "    opt=${COMP_WORDS[n - 1]} cur= n=$((n - 1))\n"
    "  elif [[ $n -ge 3 && ${COMP_WORDS[n - 1]} == = && ${COMP_WORDS[n - 2]} == --?* ]]; then\n"
    "    opt=${COMP_WORDS[n - 2]} n=$((n - 2))\n"
    "  fi\n"
    "  if ((n <= 1)); then\n"
    "    [[ -n $opt ]] && return 0\n"
    "    mapfile -t COMPREPLY < <(compgen -W \"$_csvreg_commands --help --version\" -- \"$cur\")\n"
    "    return 0\n"
    "  fi\n"
    "  for ((i = 1; i < n; i++)); do\n"
    "    w=${COMP_WORDS[i]}\n"
    "    if [[ $w == --?* && ${COMP_WORDS[i + 1]} == = ]] && ((i + 1 < n)); then\n"
    "      w+==\n"
    "      i=$((i + 1))\n"
    "      if ((i + 1 < n)); then\n"
    "        i=$((i + 1))\n"
    "        w+=${COMP_WORDS[i]}\n"
    "      fi\n"
    "    fi\n"
    "    args+=(\"$w\")\n"
    "  done\n"
    "  # The input file may come after the cursor: `csvreg fit -y <TAB> data.csv`.\n"
    "  local pending ended\n"
    "  _csvreg_walk \"${args[@]}\"\n"
    "  pending=$_csvreg_pending ended=$_csvreg_ended\n"
    "  _csvreg_walk \"${args[@]}\" \"${COMP_WORDS[@]:n}\"\n"
    "  _csvreg_pending=$pending _csvreg_ended=$ended\n"
    "  if [[ -n $opt ]]; then\n"
    "    _csvreg_kind \"$_csvreg_cmd\" \"$opt\"\n"
    "    kind=$_csvreg_r\n"
    "  elif [[ -n $_csvreg_pending ]]; then\n"
    "    _csvreg_kind \"$_csvreg_cmd\" \"$_csvreg_pending\"\n"
    "    kind=$_csvreg_r\n"
    "  elif [[ $cur == -* && -z $_csvreg_ended ]]; then\n"
    "    _csvreg_options \"$_csvreg_cmd\"\n"
    "    mapfile -t COMPREPLY < <(compgen -W \"$_csvreg_r\" -- \"$cur\")\n"
    "    return 0\n"
    "  else\n"
    "    kind=@file\n"
    "  fi\n"
    "  case $kind in\n"
    "  @file)\n"
    "    compopt -o filenames 2>/dev/null\n"
    "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
    "    ;;\n"
    "  @dir)\n"
    "    compopt -o filenames 2>/dev/null\n"
    "    mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"
    "    ;;\n"
    "  @none) ;;\n"
    "  @delim)\n"
    "    for w in tab , '\\;' '\\|'; do\n"
    "      [[ $w == \"$cur\"* ]] && COMPREPLY+=(\"$w\")\n"
    "    done\n"
    "    ;;\n"
    "  @col | @cols)\n"
    "    pre= part=$cur\n"
    "    if [[ $kind == @cols && $cur == *,* ]]; then\n"
    "      pre=${cur%,*}, part=${cur##*,}\n"
    "    fi\n"
    "    while IFS= read -r name; do\n"
    "      if [[ -n $name && $name == \"$part\"* ]]; then\n"
    "        q=$pre$name\n"
    "        # quoted only when the shell needs it (printf %q would quote commas too)\n"
    "        [[ $q == *[!A-Za-z0-9._,:/+@%=-]* ]] && printf -v q '%q' \"$q\"\n"
    "        COMPREPLY+=(\"$q\")\n"
    "      fi\n"
    "    done < <(_csvreg_columns)\n"
    "    ;;\n"
    "  *) mapfile -t COMPREPLY < <(compgen -W \"$kind\" -- \"$cur\") ;;\n"
    "  esac\n"
    "  return 0\n"
    "}\n"
    "complete -F _csvreg csvreg\n";

static const char zsh_front[] =
    "_csvreg_main() {\n"
    "  emulate -L zsh\n"
    "  local _csvreg_r _csvreg_cmd _csvreg_file _csvreg_delim _csvreg_noheader _csvreg_pending\n"
    "  local _csvreg_ended _csvreg_w _csvreg_rest _csvreg_l _csvreg_u\n"
    "  local opt= kind\n"
    "  local -a names reply\n"
    "  if ((CURRENT == 2)); then\n"
    "    _csvreg_describe_commands\n"
    "    _describe -t commands 'csvreg command' reply\n"
    "    return\n"
    "  fi\n"
    "  # The input file may come after the cursor: `csvreg fit -y <TAB> data.csv`.\n"
    "  local pending ended\n"
    "  _csvreg_walk \"${(@)words[2,CURRENT-1]}\"\n"
    "  pending=$_csvreg_pending ended=$_csvreg_ended\n"
    "  _csvreg_walk \"${(@)words[2,-1]}\"\n"
    "  _csvreg_pending=$pending _csvreg_ended=$ended\n"
    "  if [[ -z $_csvreg_pending && -z $_csvreg_ended && $PREFIX == --*=* ]]; then\n"
    "    opt=${PREFIX%%=*}\n"
    "    compset -P '*='\n"
    "  fi\n"
    "  if [[ -n $opt ]]; then\n"
    "    _csvreg_kind \"$_csvreg_cmd\" \"$opt\"\n"
    "    kind=$_csvreg_r\n"
    "  elif [[ -n $_csvreg_pending ]]; then\n"
    "    _csvreg_kind \"$_csvreg_cmd\" \"$_csvreg_pending\"\n"
    "    kind=$_csvreg_r\n"
    "  elif [[ $PREFIX == -* && -z $_csvreg_ended ]]; then\n"
    "    _csvreg_describe_options \"$_csvreg_cmd\"\n"
    "    _describe -t options 'option' reply\n"
    "    return\n"
    "  else\n"
    "    kind=@file\n"
    "  fi\n"
    "  case $kind in\n"
    "  @file) _files ;;\n"
    "  @dir) _files -/ ;;\n"
    "  @none) _message 'value' ;;\n"
    "  @delim) compadd -- tab , ';' '|' ;;\n"
    "  @col | @cols)\n"
    "    [[ $kind == @cols ]] && compset -P '*,'\n"
    "    names=(\"${(@f)$(_csvreg_columns)}\")\n"
    "    names=(${names:#})\n"
    "    compadd -a names\n"
    "    ;;\n"
    "  *) compadd -- ${=kind} ;;\n"
    "  esac\n"
    "}\n"
    "_csvreg_main \"$@\"\n";

/* The data part of both scripts: the commands, their option words and what
 * each option's value is. */
static void put_tables(FILE *out, const command_info *cis, size_t n) {
  fputs("_csvreg_commands='", out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "%s%s", i ? " " : "", cis[i].cmd->name);
  fputs("'\n\n# _csvreg_options COMMAND: the option words of COMMAND in _csvreg_r.\n"
        "_csvreg_options() {\n  case $1 in\n",
        out);
  for (size_t i = 0; i < n; i++) {
    fprintf(out, "  %s) _csvreg_r='", cis[i].cmd->name);
    word_list wl = {out, 1};
    each_option(&cis[i], put_word, &wl);
    fputs("' ;;\n", out);
  }
  fputs("  *) _csvreg_r= ;;\n  esac\n}\n\n"
        "# _csvreg_kind COMMAND OPTION: what the option's value is, in _csvreg_r\n"
        "# (empty for an option that takes none): @col, @cols (COL,COL,...), @delim,\n"
        "# @file, @dir, @none (a number or free text), or the words it accepts.\n"
        "_csvreg_kind() {\n  case \"$1 $2\" in\n",
        out);
  for (size_t i = 0; i < n; i++)
    each_option(&cis[i], put_kind, out);
  fputs("  *) _csvreg_r= ;;\n  esac\n}\n\n", out);
}

/* zsh's _describe lists: the commands, and each command's options with the
 * first line of their --help description. */
static void put_descriptions(FILE *out, const command_info *cis, size_t n) {
  fputs("_csvreg_describe_commands() {\n  reply=(\n", out);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(cis[i].cmd->name) + 1 + strlen(cis[i].cmd->summary);
    char *spec = malloc(len + 1);
    if (!spec)
      continue;
    snprintf(spec, len + 1, "%s:%s", cis[i].cmd->name, cis[i].cmd->summary);
    fputs("    ", out);
    put_quoted(out, spec, len);
    fputc('\n', out);
    free(spec);
  }
  fputs("  )\n}\n\n_csvreg_describe_options() {\n  reply=()\n  case $1 in\n", out);
  for (size_t i = 0; i < n; i++) {
    fprintf(out, "  %s)\n    reply=(\n", cis[i].cmd->name);
    each_option(&cis[i], put_described, out);
    fputs("    )\n    ;;\n", out);
  }
  fputs("  esac\n}\n\n", out);
}

static void completion_usage(FILE *out) {
  fprintf(out,
          "Usage: %s completion bash|zsh\n"
          "Print the shell completion script for bash or zsh: commands, options, option\n"
          "values, file names, and the column names of the CSV file on the command line\n"
          "(its first line, split at -d) for -y, -x, -w, --factor and --cluster.\n"
          "`cmake --install` puts them in share/bash-completion/completions/csvreg and\n"
          "share/zsh/vendor-completions/_csvreg; to try one: source <(%s completion bash)\n",
          cli_program, cli_program);
}

int cli_completion_run(int argc, char **argv, const cli_command *commands, size_t ncommands) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    completion_usage(stdout);
    return CLI_EXIT_OK;
  }
  if (argc != 2 || (strcmp(argv[1], "bash") != 0 && strcmp(argv[1], "zsh") != 0))
    return cli_usage_error("completion", "expected one argument, 'bash' or 'zsh'");
  int zsh = strcmp(argv[1], "zsh") == 0;
  command_info *cis = calloc(ncommands ? ncommands : 1, sizeof *cis);
  if (!cis) {
    cli_errorf("out of memory");
    return CLI_EXIT_INTERNAL;
  }
  for (size_t i = 0; i < ncommands; i++)
    command_info_load(&cis[i], &commands[i]);
  FILE *out = stdout;
  if (zsh)
    fputs("#compdef csvreg\n", out);
  fprintf(out,
          "# %s completion for %s %s, made by `%s completion %s` from the commands'\n"
          "# option tables and --help: regenerate it rather than edit it.\n\n",
          argv[1], cli_program, csvreg_version(), cli_program, argv[1]);
  put_tables(out, cis, ncommands);
  if (zsh)
    put_descriptions(out, cis, ncommands);
  fputs(shell_common, out);
  fputc('\n', out);
  fputs(zsh ? zsh_front : bash_front, out);
  for (size_t i = 0; i < ncommands; i++)
    free(cis[i].help);
  free(cis);
  return CLI_EXIT_OK;
}
