/*
 * stats.c - the --stats line every command prints on standard error: rows,
 * chunks, bytes, time, throughput and peak RSS, from the tool itself.
 */
#include <sys/resource.h>

#include "cli.h"

void cli_print_stats(const csvreg_counts *k, uint64_t chunks, uint64_t bytes, double secs) {
  struct rusage ru;
  double rss_mib = 0;
  /* Linux reports ru_maxrss in KiB. */
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    rss_mib = (double)ru.ru_maxrss / 1024.0;
  double s = secs > 0 ? secs : 1e-9;
  fprintf(stderr,
          "%s: stats: %llu row%s read, %llu used, %llu chunk%s, %llu byte%s, %.3f s, "
          "%.0f rows/s, %.1f MB/s, peak RSS %.1f MiB\n",
          cli_program, (unsigned long long)k->records, CLI_PLURAL(k->records),
          (unsigned long long)k->used, (unsigned long long)chunks, CLI_PLURAL(chunks),
          (unsigned long long)bytes, CLI_PLURAL(bytes), secs, (double)k->records / s,
          (double)bytes / 1e6 / s, rss_mib);
}
