/*
 * test_blas_threads.c - the library's BLAS thread policy (src/util/status.c):
 * one OpenBLAS thread unless OPENBLAS_NUM_THREADS is set. Run as
 *   test_blas_threads pinned   (variable unset by the test's command)
 *   test_blas_threads env      (OPENBLAS_NUM_THREADS=2 given: it decides)
 * and with a second word `pool` when OpenBLAS is linked into the same program
 * (static): then no spare thread may even have been started, which only the
 * early constructor can achieve.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csvreg.h>

int openblas_get_num_threads(void); /* OpenBLAS's; cblas.h may be netlib's */

static int process_threads(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Threads:", 8) == 0)
      n = atoi(line + 8);
  if (f)
    fclose(f);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  cpu_set_t cpus;
  int ncpu = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  int want = 1;
  if (strcmp(argv[1], "env") == 0) /* OpenBLAS caps the variable at the CPUs */
    want =
        atoi(getenv("OPENBLAS_NUM_THREADS")) < ncpu ? atoi(getenv("OPENBLAS_NUM_THREADS")) : ncpu;
  /* A call into the library, as any user makes, links the policy's object. */
  printf("library %s, OPENBLAS_NUM_THREADS=%s, %d CPUs\n", csvreg_version(),
         getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "(unset)", ncpu);
  int blas = openblas_get_num_threads();
  int threads = process_threads();
  printf("OpenBLAS threads %d (want %d), process threads %d\n", blas, want, threads);
  if (blas != want)
    return 1;
  if (argc > 2 && strcmp(argv[2], "pool") == 0 && threads != want)
    return 1;
  return 0;
}
