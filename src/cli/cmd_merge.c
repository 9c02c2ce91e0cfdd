/*
 * cmd_merge.c - `csvreg merge`: the reducer. States from files or stdin are
 * checked, put in a fixed order and merged into one state line; coverage
 * checks make a lost or duplicated shard an error instead of a quietly
 * partial model. --subtract removes states (rolling windows, normal solver).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "meat_cli.h"
#include "state_cli.h"

#define CMD "merge"

void cmd_merge_usage(FILE *out) {
  fprintf(out,
          "Usage: %s merge [OPTION]... [STATE]...\n"
          "Merge accumulator states (from 'fit --emit-state') into one state line, the\n"
          "state of all their rows together; or meat states (from 'fit --emit-state\n"
          "--vcov TYPE -m MODEL', the second pass of robust errors) into one meat state.\n"
          "A STATE file holds one state a line; with no\n"
          "STATE, or when STATE is -, read standard input. Blank lines are skipped and a\n"
          "'key<TAB>' prefix (Hadoop Streaming) is ignored. States must share the solver,\n"
          "columns and input options; an empty state (no rows) merges as nothing. States\n"
          "of a formula with categorical columns must share the formula and header; the\n"
          "levels the shards saw may differ (aligned by name; solve picks R's columns).\n"
          "They are merged in an order fixed by their provenance (byte range, then\n"
          "checksum), so the result does not depend on the order they arrive in.\n"
          "\n"
          "  -o, --output FILE     write the state to FILE (atomically), not standard output\n"
          "      --expect-records N  fail (exit 3) unless the states read N data records,\n"
          "                        rows dropped for NA, bad cells or zero weight included\n"
          "                        (wc -l minus the header, for a file without quoted\n"
          "                        newlines; a check that survives engines that rewrite\n"
          "                        line ends or drop a BOM)\n"
          "      --expect-rows N   the same as --expect-records\n"
          "      --expect-used N   fail (exit 3) unless the states used N rows in the fit\n"
          "                        (the report's n)\n"
          "      --expect-bytes N  fail (exit 3) unless the states cover an N-byte file\n"
          "                        exactly once: their byte ranges (fit --range/--bytes/FILE)\n"
          "                        must tile [0, N); streamed shards must add up to N bytes\n"
          "                        with one header (each parallel --pipepart block repeats\n"
          "                        the header)\n"
          "      --allow-repeat    merge streamed blocks with the same digest, bytes and\n"
          "                        records (an input that holds one block twice); without\n"
          "                        it such a pair is a block delivered twice (exit 3)\n"
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
                                             {"expect-records", required_argument, NULL, 'R'},
                                             {"expect-used", required_argument, NULL, 'U'},
                                             {"allow-repeat", no_argument, NULL, 'A'},
                                             {"expect-bytes", required_argument, NULL, 'B'},
                                             {"subtract", required_argument, NULL, 'S'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};

int cmd_merge_run(int argc, char **argv) {
  const char *output = NULL, *subtract = NULL;
  csvreg_stateset_checks chk;
  memset(&chk, 0, sizeof chk);
  if (opt_check_words(CMD, argc, argv, ":o:h", long_options))
    return CLI_EXIT_USAGE;
  opterr = 0;
  optind = 1;
  int c, li = -1;
  while ((c = getopt_long(argc, argv, ":o:h", long_options, &li)) != -1) {
    const char *opt = argv[optind - 1];
    switch (c) {
    case 'o': output = optarg; break;
    case 'R': /* --expect-records, or its older name --expect-rows */
      if (opt_count(CMD,
                    li >= 0 && strcmp(long_options[li].name, "expect-rows") == 0
                        ? "--expect-rows"
                        : "--expect-records",
                    optarg, &chk.rows))
        return CLI_EXIT_USAGE;
      chk.expect_rows = 1;
      break;
    case 'U':
      if (opt_count(CMD, "--expect-used", optarg, &chk.used))
        return CLI_EXIT_USAGE;
      chk.expect_used = 1;
      break;
    case 'A': chk.allow_repeat = 1; break;
    case 'B':
      if (opt_count(CMD, "--expect-bytes", optarg, &chk.bytes))
        return CLI_EXIT_USAGE;
      chk.expect_bytes = 1;
      break;
    case 'S': subtract = optarg; break;
    case 'h': cmd_merge_usage(stdout); return CLI_EXIT_OK;
    default: return opt_error(CMD, c, opt);
    }
  }
  csvreg_stateset *set = NULL, *sub = NULL;
  csvreg_accum *acc = NULL;
  char *meta = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  /* Meat states (fit --emit-state --vcov ... -m MODEL: the second pass of
   * robust errors, issue 13) merge on their own. */
  csvreg_meatset *meat = NULL;
  int rc = inputs_read_all(&set, &meat, argc, argv, optind);
  if (!rc && csvreg_meatset_count(meat)) {
    rc = meat_merge(meat, &chk, subtract, output);
    csvreg_meatset_free(meat);
    csvreg_stateset_free(set);
    return rc;
  }
  csvreg_meatset_free(meat);
  if (!rc && csvreg_stateset_merge(set, &chk, &acc, &meta, &err))
    rc = cli_report_error(&err);
  if (!rc && subtract) {
    if (csvreg_stateset_new(&sub, &err))
      rc = cli_report_error(&err);
    if (!rc)
      rc = state_read(sub, subtract);
    if (!rc && csvreg_stateset_subtract(sub, acc, &meta, &err)) {
      char why[2048];
      csvreg_error_format(&err, why, sizeof why);
      cli_errorf("--subtract %s: %s", subtract, why);
      rc = cli_exit_code(err.status);
    }
  }
  if (!rc)
    rc = state_write(output, acc, meta);
  free(meta);
  csvreg_accum_free(acc);
  csvreg_stateset_free(set);
  csvreg_stateset_free(sub);
  return rc;
}
