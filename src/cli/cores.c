/*
 * cores.c - `--threads 0`: every core this process may use (its CPU
 * affinity mask, which taskset, cgroups' cpusets and Slurm narrow), not the
 * machine's count, so a job given 2 of 64 cores runs 2 threads.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>

#include "cli.h"

size_t cli_usable_cores(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return (size_t)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (size_t)n : 1;
}

int opt_threads_all(const char *command, const char *arg, size_t *out) {
  const char *p = arg;
  while (*p == ' ' || *p == '\t')
    p++;
  if (p[0] == '0' && p[1] == '\0') {
    size_t n = cli_usable_cores();
    *out = n > 256 ? 256 : n;
    return 0;
  }
  return opt_threads(command, arg, out);
}
