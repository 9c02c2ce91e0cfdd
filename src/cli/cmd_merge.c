/*
 * cmd_merge.c - `csvreg merge`: the reducer. States from files or stdin are
 * checked, put in a fixed order and merged into one state line; coverage
 * checks make a lost or duplicated shard an error instead of a quietly
 * partial model. --subtract removes states (rolling windows, normal solver).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

#define CMD "merge"

void cmd_merge_usage(FILE *out) {
  fprintf(out,
          "Usage: %s merge [OPTION]... [STATE]...\n"
          "Merge accumulator states (from 'fit --emit-state') into one state line, the\n"
          "state of all their rows together. A STATE file holds one state a line; with no\n"
          "STATE, or when STATE is -, read standard input. Blank lines are skipped and a\n"
          "'key<TAB>' prefix (Hadoop Streaming) is ignored. States must share the solver,\n"
          "columns and input options; an empty state (no rows) merges as nothing. They are\n"
          "merged in an order fixed by their provenance (byte range, then checksum), so the\n"
          "result does not depend on the order they arrive in.\n"
          "\n"
          "  -o, --output FILE     write the state to FILE (atomically), not standard output\n"
          "      --expect-rows N   fail (exit 3) unless the states hold N data records\n"
          "      --expect-bytes N  fail (exit 3) unless the states cover an N-byte file\n"
          "                        exactly once: their byte ranges (fit --range/--bytes/FILE)\n"
          "                        must tile [0, N); streamed shards must add up to N bytes\n"
          "                        with one header (each parallel --pipepart block repeats\n"
          "                        the header)\n"
          "      --subtract FILE   remove the states in FILE from the result (rolling\n"
          "                        windows); needs --solver normal: a QR factor cannot be\n"
          "                        downdated stably\n"
          "  -h, --help            show this help and exit\n"
          "\n"
          "Writers sharing one pipe must keep each line whole (a state line can exceed\n"
          "PIPE_BUF); a damaged or interleaved line fails its checksum and is reported.\n"
          "Exit status: 0 success, 2 usage, 3 a shard missing or duplicated, 4 I/O error,\n"
          "5 the subtraction is not positive definite, 6 a state that cannot be used or\n"
          "states that do not belong together.\n"
          "\n"
          "Example:\n"
          "  parallel --pipepart -a big.csv --header : --block -4 %s fit --emit-state -y y - \\\n"
          "    | %s merge --expect-bytes \"$(stat -c%%s big.csv)\" | %s solve\n",
          cli_program, cli_program, cli_program, cli_program);
}

static const struct option long_options[] = {{"output", required_argument, NULL, 'o'},
                                             {"expect-rows", required_argument, NULL, 'R'},
                                             {"expect-bytes", required_argument, NULL, 'B'},
                                             {"subtract", required_argument, NULL, 'S'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

static int parse_count(const char *opt, const char *arg, uint64_t *out) {
  char *end;
  if (arg[0] < '0' || arg[0] > '9' || (*out = strtoull(arg, &end, 10), *end))
    return cli_usage_error(CMD, "%s: expected a count, got '%s'", opt, arg);
  return 0;
}

int cmd_merge_run(int argc, char **argv) {
  const char *output = NULL, *subtract = NULL;
  merge_checks chk = {0, 0, 0, 0};
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'o': output = optarg; break;
    case 'R':
      if (parse_count("--expect-rows", optarg, &chk.rows))
        return CLI_EXIT_USAGE;
      chk.expect_rows = 1;
      break;
    case 'B':
      if (parse_count("--expect-bytes", optarg, &chk.bytes))
        return CLI_EXIT_USAGE;
      chk.expect_bytes = 1;
      break;
    case 'S': subtract = optarg; break;
    case 'h': cmd_merge_usage(stdout); return CLI_EXIT_OK;
    default: return opt_error(CMD, c, opt);
    }
  }
  state_set set = {NULL, 0, 0}, sub = {NULL, 0, 0};
  int rc = 0;
  if (optind == argc)
    rc = state_set_read(&set, "-");
  for (int i = optind; !rc && i < argc; i++)
    rc = state_set_read(&set, argv[i]);
  csvreg_accum *acc = NULL, *old = NULL;
  char *meta = NULL, *old_meta = NULL;
  if (!rc)
    rc = state_set_merge(&set, &chk, &acc, &meta);
  if (!rc && subtract) {
    rc = state_set_read(&sub, subtract);
    if (!rc)
      rc = state_set_merge(&sub, NULL, &old, &old_meta);
    csvreg_error err;
    csvreg_error_clear(&err);
    if (!rc && csvreg_accum_subtract(acc, old, &err)) {
      cli_errorf("--subtract %s: %s", subtract, err.message);
      rc = cli_exit_code(err.status);
    }
    if (!rc) { /* byte ranges no longer describe the rows */
      json_t *m = json_loads(meta, 0, NULL);
      if (m) {
        json_object_del(m, "ranges");
        json_object_del(m, "bytes");
        json_object_del(m, "header_bytes");
        json_object_set_new(m, "records",
                            json_integer((json_int_t)csvreg_accum_counts(acc)->records));
        json_object_set_new(m, "subtracted", json_integer((json_int_t)sub.n));
        free(meta);
        meta = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(m);
      }
    }
  }
  if (!rc)
    rc = state_write(output, acc, meta);
  free(meta);
  free(old_meta);
  csvreg_accum_free(acc);
  csvreg_accum_free(old);
  state_set_free(&set);
  state_set_free(&sub);
  return rc;
}
