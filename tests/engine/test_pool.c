/*
 * test_pool.c - the ordered block pool (src/engine/pool.c): results are
 * merged in submission order whatever the workers' timing (random delays),
 * the first failure in submission order is the one reported (from a task
 * or from a merge), and every task submitted is released exactly once.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pool.h"

#define MAXT 200

typedef struct job {
  int id;
  int delay_us;
  int ran;
} job;

typedef struct ctx {
  int fail_run, fail_merge; /* task id that fails (-1: none) */
  int merged[MAXT];
  int nmerged;
  int released[MAXT];
  int locals_made, locals_freed;
  pthread_t on[MAXT]; /* the thread each task ran on */
} ctx;

static csvreg_status run(void *c, void *t, void **local, csvreg_error *err) {
  ctx *x = c;
  job *j = t;
  if (!*local) {
    *local = malloc(16);
    __atomic_fetch_add(&x->locals_made, 1, __ATOMIC_SEQ_CST);
  }
  struct timespec ts = {0, (long)j->delay_us * 1000};
  nanosleep(&ts, NULL);
  j->ran = 1;
  x->on[j->id] = pthread_self();
  if (j->id == x->fail_run) {
    err->status = CSVREG_E_CSV;
    snprintf(err->message, sizeof err->message, "task %d failed", j->id);
    return CSVREG_E_CSV;
  }
  return CSVREG_OK;
}

static csvreg_status merge(void *c, void *t, csvreg_error *err) {
  ctx *x = c;
  job *j = t;
  if (j->id == x->fail_merge) {
    err->status = CSVREG_E_NOMEM;
    snprintf(err->message, sizeof err->message, "merge %d failed", j->id);
    return CSVREG_E_NOMEM;
  }
  x->merged[x->nmerged++] = j->id;
  return CSVREG_OK;
}

static void release(void *c, void *t) {
  ctx *x = c;
  job *j = t;
  x->released[j->id]++;
}

static void local_free(void *c, void *local) {
  ctx *x = c;
  __atomic_fetch_add(&x->locals_freed, 1, __ATOMIC_SEQ_CST);
  free(local);
}

static const pool_ops ops = {run, merge, release, local_free, NULL};

/* Runs n tasks; returns the status of csvreg__pool_finish. */
static csvreg_status go(ctx *x, job *jobs, int n, size_t threads, size_t in_flight,
                        csvreg_error *err, int *submitted) {
  pool *p = NULL;
  assert_int_equal(csvreg__pool_new(&p, threads, in_flight, &ops, x, err), CSVREG_OK);
  *submitted = 0;
  for (int i = 0; i < n; i++) {
    (*submitted)++;
    if (!csvreg__pool_submit(p, &jobs[i]))
      break;
  }
  csvreg_status st = csvreg__pool_finish(p, err);
  csvreg__pool_free(p);
  return st;
}

static void make_jobs(job *jobs, int n, unsigned seed) {
  srand(seed);
  for (int i = 0; i < n; i++) {
    jobs[i].id = i;
    jobs[i].delay_us = rand() % 300;
    jobs[i].ran = 0;
  }
}

static void test_order_kept(void **state) {
  (void)state;
  static const size_t threads[] = {0, 1, 2, 4, 8};
  static const size_t flight[] = {1, 2, 3, 16};
  for (size_t a = 0; a < 5; a++)
    for (size_t b = 0; b < 4; b++) {
      ctx x;
      memset(&x, 0, sizeof x);
      x.fail_run = x.fail_merge = -1;
      job jobs[MAXT];
      int n = 60, sub;
      make_jobs(jobs, n, (unsigned)(a * 10 + b));
      csvreg_error err;
      csvreg_error_clear(&err);
      assert_int_equal(go(&x, jobs, n, threads[a], flight[b], &err, &sub), CSVREG_OK);
      assert_int_equal(x.nmerged, n);
      for (int i = 0; i < n; i++) {
        assert_int_equal(x.merged[i], i);
        assert_int_equal(x.released[i], 1);
      }
      assert_int_equal(x.locals_made, x.locals_freed);
    }
}

static void test_errors(void **state) {
  (void)state;
  for (int which = 0; which < 2; which++)
    for (size_t threads = 0; threads <= 4; threads += 2)
      for (int k = 0; k < 40; k += 7) {
        ctx x;
        memset(&x, 0, sizeof x);
        x.fail_run = which == 0 ? k : -1;
        x.fail_merge = which == 1 ? k : -1;
        job jobs[MAXT];
        int n = 40, sub;
        make_jobs(jobs, n, (unsigned)k);
        csvreg_error err;
        csvreg_error_clear(&err);
        csvreg_status st = go(&x, jobs, n, threads, 4, &err, &sub);
        assert_int_equal(st, which == 0 ? CSVREG_E_CSV : CSVREG_E_NOMEM);
        char want[64];
        snprintf(want, sizeof want, "%s %d failed", which == 0 ? "task" : "merge", k);
        assert_string_equal(err.message, want);
        /* exactly the tasks before the failure are merged, in order */
        assert_int_equal(x.nmerged, k);
        for (int i = 0; i < k; i++)
          assert_int_equal(x.merged[i], i);
        /* every task submitted is released once, the others never */
        for (int i = 0; i < n; i++)
          assert_int_equal(x.released[i], i < sub ? 1 : 0);
        assert_true(sub >= k + 1);
        assert_int_equal(x.locals_made, x.locals_freed);
      }
}

/* A later task failing while an earlier one is slow: the earlier is still
 * merged first, and the later failure is the one reported. */
static void test_later_failure_waits(void **state) {
  (void)state;
  ctx x;
  memset(&x, 0, sizeof x);
  x.fail_run = 1;
  x.fail_merge = -1;
  job jobs[3] = {{0, 20000, 0}, {1, 0, 0}, {2, 0, 0}};
  csvreg_error err;
  csvreg_error_clear(&err);
  int sub;
  assert_int_equal(go(&x, jobs, 3, 3, 3, &err, &sub), CSVREG_E_CSV);
  assert_int_equal(x.nmerged, 1);
  assert_int_equal(x.merged[0], 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(x.released[i], 1);
}

/* Pinned (csvreg__pool_pin): task k runs on worker k mod n whatever the
 * timing, each worker woken for its own tasks only (its own condition
 * variable), and a failure still wakes and stops every worker. */
static void test_pinned(void **state) {
  (void)state;
  for (int fail = -1; fail <= 13; fail += 14)
    for (size_t threads = 2; threads <= 3; threads++) {
      ctx x;
      memset(&x, 0, sizeof x);
      x.fail_run = fail;
      x.fail_merge = -1;
      job jobs[MAXT];
      const int n = 60;
      make_jobs(jobs, n, (unsigned)threads);
      csvreg_error err;
      csvreg_error_clear(&err);
      pool *p = NULL;
      assert_int_equal(csvreg__pool_new(&p, threads, 2 * threads, &ops, &x, &err), CSVREG_OK);
      assert_int_equal(csvreg__pool_pin(p), 1);
      int sub = 0;
      for (int i = 0; i < n; i++) {
        sub++;
        if (!csvreg__pool_submit(p, &jobs[i]))
          break;
      }
      csvreg_status st = csvreg__pool_finish(p, &err);
      csvreg__pool_free(p);
      assert_int_equal(st, fail < 0 ? CSVREG_OK : CSVREG_E_CSV);
      assert_int_equal(x.nmerged, fail < 0 ? n : fail);
      for (int i = 0; i < n; i++)
        assert_int_equal(x.released[i], i < sub ? 1 : 0);
      for (int i = 0; i < x.nmerged; i++)
        assert_true(pthread_equal(x.on[i], x.on[(size_t)i % threads]));
      for (size_t a = 0; a < threads; a++)
        for (size_t b = a + 1; b < threads; b++)
          assert_false(pthread_equal(x.on[a], x.on[b]));
      assert_int_equal(x.locals_made, x.locals_freed);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_kept),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_later_failure_waits),
      cmocka_unit_test(test_pinned),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
