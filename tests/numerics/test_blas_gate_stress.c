/*
 * test_blas_gate_stress.c - the BLAS gate (blas_gate.c) under many threads:
 * its lock-free fast path, its slow path (the condition variable, when every
 * buffer OpenBLAS has is lent and the address space has no room for one
 * more) and the per-thread hold (csvreg__blas_hold/unhold), all at once.
 *
 * THREADS threads each make ITERS rounds of buffer-taking calls (dgemv with
 * m + n beyond OpenBLAS's stack buffer, and dtrsv, which always takes one),
 * some plain, some inside a hold, some inside nested holds. Every round takes
 * exactly one buffer from OpenBLAS (a hold lends its buffer to the calls
 * inside it), so the count taken is known; every answer must be the same
 * bits as the one thread's; and at the end no buffer is lent.
 *
 * The capped variant forks a child per round that sets RLIMIT_AS so that
 * OpenBLAS's first buffer plus room for exactly one more fit: the threads
 * must share two buffers, most calls wait on the slow path, and the child
 * must finish before an alarm (a lost wake-up or a buffer OpenBLAS cannot
 * map - it then retries forever - would hang it: the alarm turns that into a
 * failure rather than a ctest timeout). It runs first, while the process has
 * only csvreg__blas_ready's one buffer. Only with the static OpenBLAS
 * (the --wrap link counts buffers).
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "linalg.h"

/* The capped rounds are many and short: the races they look for are at the
 * moment the second buffer is mapped, once per child (OpenBLAS never unmaps
 * a buffer). Before the fix every run of this test failed (8 of 8: a child
 * that counted a third buffer, or one that hung with OpenBLAS retrying a
 * map the cap refused). */
enum { M = 600, N = 40, TN = 200, THREADS = 6, ITERS = 400, CAP_ROUNDS = 400, CAP_ITERS = 24 };
enum { ALARM_S = 20 };
#define BUFFER_BYTES ((size_t)128 << 20)

static double *A, *X, *T, *B;          /* inputs */
static double *want_gemv, *want_trsv;  /* one thread's answers */
static double *ys[THREADS], *zs[THREADS]; /* per-thread outputs, made before any cap */

static void fill(double *a, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    a[i] = (double)(seed >> 11) * 0x1p-53 - 0.5;
  }
}

static double *aligned(size_t n) { return aligned_alloc(64, (sizeof(double) * n + 63) / 64 * 64); }

static void gemv(double *y) {
  cblas_dgemv(CblasColMajor, CblasTrans, M, N, 1.0, A, M, X, 1, 0.0, y, 1);
}
static void trsv(double *z) {
  memcpy(z, B, sizeof *z * TN);
  cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, TN, T, TN, z, 1);
}

struct worker {
  int id, iters;
  pthread_barrier_t *start;
  size_t wrong; /* answers that differ from the one thread's */
};

/* No malloc here: under the cap a thread's first malloc would reserve a
 * 64 MiB arena and eat the room the test leaves for one buffer. */
static void *work(void *arg) {
  struct worker *w = arg;
  double *y = ys[w->id], *z = zs[w->id];
  pthread_barrier_wait(w->start);
  for (int i = 0; i < w->iters; i++) {
    switch ((i + w->id) % 4) {
    case 0: /* plain: one buffer per call */
      gemv(y);
      w->wrong += memcmp(y, want_gemv, sizeof *y * N) != 0;
      break;
    case 1:
      trsv(z);
      w->wrong += memcmp(z, want_trsv, sizeof *z * TN) != 0;
      break;
    case 2: /* one hold, three calls: one buffer */
      csvreg__blas_hold();
      gemv(y);
      w->wrong += memcmp(y, want_gemv, sizeof *y * N) != 0;
      trsv(z);
      w->wrong += memcmp(z, want_trsv, sizeof *z * TN) != 0;
      gemv(y);
      w->wrong += memcmp(y, want_gemv, sizeof *y * N) != 0;
      csvreg__blas_unhold();
      break;
    default: /* nested holds: still one buffer, given back at the outer unhold */
      csvreg__blas_hold();
      csvreg__blas_hold();
      trsv(z);
      w->wrong += memcmp(z, want_trsv, sizeof *z * TN) != 0;
      csvreg__blas_unhold();
      gemv(y);
      w->wrong += memcmp(y, want_gemv, sizeof *y * N) != 0;
      csvreg__blas_unhold();
      break;
    }
  }
  return NULL;
}

struct outcome {
  size_t wrong, taken, lent, buffers, waits, start_buffers;
  int room_ok; /* the cap left room for one buffer, not two */
};

/* Starts THREADS workers, then (capped) caps the address space
 * at its size now plus room for one buffer and half a buffer of slack, then
 * lets them go. Threads and their stacks exist before the cap. */
static int run_threads(int capped, struct outcome *out) {
  memset(out, 0, sizeof *out);
  out->start_buffers = csvreg__blas_buffers();
  pthread_barrier_t start;
  if (pthread_barrier_init(&start, NULL, THREADS + 1))
    return -1;
  struct worker w[THREADS];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){.id = i, .iters = capped ? CAP_ITERS : ITERS, .start = &start};
    if (pthread_create(&th[i], NULL, work, &w[i]))
      return -1;
  }
  if (capped) {
    size_t pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%zu", &pages) != 1)
      return -1;
    fclose(f);
    size_t now = pages * (size_t)sysconf(_SC_PAGESIZE);
    struct rlimit rl = {.rlim_cur = now + BUFFER_BYTES + BUFFER_BYTES / 2,
                        .rlim_max = now + BUFFER_BYTES + BUFFER_BYTES / 2};
    if (setrlimit(RLIMIT_AS, &rl))
      return -1;
    void *one = mmap(NULL, BUFFER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *two = one == MAP_FAILED ? MAP_FAILED
                                  : mmap(NULL, BUFFER_BYTES, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    out->room_ok = one != MAP_FAILED && two == MAP_FAILED;
    if (one != MAP_FAILED)
      munmap(one, BUFFER_BYTES);
    if (two != MAP_FAILED)
      munmap(two, BUFFER_BYTES);
  }
  size_t t0 = csvreg__blas_taken(), w0 = csvreg__blas_waits();
  pthread_barrier_wait(&start);
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    out->wrong += w[i].wrong;
  }
  pthread_barrier_destroy(&start);
  out->taken = csvreg__blas_taken() - t0;
  out->waits = csvreg__blas_waits() - w0;
  out->lent = csvreg__blas_lent();
  out->buffers = csvreg__blas_buffers();
  return 0;
}

static int setup(void **state) {
  (void)state;
  A = aligned((size_t)M * N);
  X = aligned(M);
  T = aligned((size_t)TN * TN);
  B = aligned(TN);
  want_gemv = aligned(N);
  want_trsv = aligned(TN);
  if (!A || !X || !T || !B || !want_gemv || !want_trsv)
    return -1;
  for (int i = 0; i < THREADS; i++)
    if (!(ys[i] = aligned(N)) || !(zs[i] = aligned(TN)))
      return -1;
  fill(A, (size_t)M * N, 1);
  fill(X, M, 2);
  fill(T, (size_t)TN * TN, 3);
  for (int j = 0; j < TN; j++) /* well conditioned: a dominant diagonal */
    T[(size_t)j * TN + j] += 4.0;
  fill(B, TN, 4);
  csvreg_error err;
  if (csvreg__blas_ready(&err) != CSVREG_OK)
    return -1;
  gemv(want_gemv);
  trsv(want_trsv);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  free(A), free(X), free(T), free(B), free(want_gemv), free(want_trsv);
  for (int i = 0; i < THREADS; i++)
    free(ys[i]), free(zs[i]);
  return 0;
}

/* Capped: every round in a child that must end by itself. */
static void test_capped_threads_finish(void **state) {
  (void)state;
  assert_int_equal(csvreg__blas_buffers(), 1); /* only blas_ready's: the slow path is reachable */
  size_t waits = 0;
  for (int r = 0; r < CAP_ROUNDS; r++) {
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(fd[0]);
      alarm(ALARM_S);
      struct outcome o;
      int rc = run_threads(1, &o);
      if (write(fd[1], &o, sizeof o) != (ssize_t)sizeof o)
        rc = -1;
      _exit(rc ? 3 : 0);
    }
    close(fd[1]);
    struct outcome o;
    ssize_t got = read(fd[0], &o, sizeof o);
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
      fail_msg("round %d: the capped threads did not finish in %d s (signal %d): a lost "
               "wake-up, or OpenBLAS retrying a buffer it cannot map",
               r, ALARM_S, WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(got, (ssize_t)sizeof o);
    assert_true(o.room_ok);
    assert_int_equal(o.start_buffers, 1);
    assert_int_equal(o.wrong, 0);
    assert_int_equal(o.taken, (size_t)THREADS * CAP_ITERS);
    assert_int_equal(o.lent, 0);
    assert_true(o.buffers <= 2); /* the one the cap left room for, no more */
    waits += o.waits;
  }
  /* the slow path ran (in some rounds at least: scheduling decides how many) */
  assert_true(waits > 0);
}

/* Uncapped: the fast path and the holds with as many buffers as needed. */
static void test_threads_count_back_to_zero(void **state) {
  (void)state;
  for (int r = 0; r < 3; r++) {
    struct outcome o;
    assert_int_equal(run_threads(0, &o), 0);
    assert_int_equal(o.wrong, 0);
    assert_int_equal(o.taken, (size_t)THREADS * ITERS);
    assert_int_equal(o.lent, 0);
    assert_true(o.buffers >= 1 && o.buffers <= THREADS);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_capped_threads_finish),
      cmocka_unit_test(test_threads_count_back_to_zero),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
