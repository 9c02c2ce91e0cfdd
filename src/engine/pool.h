/*
 * pool.h - an ordered block pool (private to the library): N worker threads
 * run tasks (blocks of input) and their results are merged one at a time in
 * the order the tasks were submitted, so the answer does not depend on which
 * thread finishes first; at most `in_flight` tasks are held at once, so the
 * memory is bounded.
 */
#ifndef CSVREG_POOL_H
#define CSVREG_POOL_H

#include <stddef.h>

#include "csvreg.h"

typedef struct pool_ops {
  /* Runs `task` on a worker. `local` is the worker's own slot for what it
   * reuses from task to task (NULL at first; local_free frees it). */
  csvreg_status (*run)(void *ctx, void *task, void **local, csvreg_error *err);
  /* Folds a task that ran without error into the total; called in submission
   * order, one call at a time, until the first failure. */
  csvreg_status (*merge)(void *ctx, void *task, csvreg_error *err);
  /* Called exactly once for every task submitted, merged or not. */
  void (*release)(void *ctx, void *task);
  /* Frees a worker's `local` (may be NULL). */
  void (*local_free)(void *ctx, void *local);
  /* Optional: called on the submitting thread after each submission and
   * every ~0.1 s while it waits (progress). */
  void (*tick)(void *ctx);
} pool_ops;

typedef struct pool pool;

/* A pool of `threads` workers (0: every task runs in csvreg__pool_submit on the
 * calling thread) holding at most `in_flight` (>= 1) tasks. `ops` and `ctx`
 * must outlive the pool. */
csvreg_status csvreg__pool_new(pool **out, size_t threads, size_t in_flight, const pool_ops *ops,
                               void *ctx, csvreg_error *err);

/* Before any submission: task k (in submission order, from 0) runs on
 * worker k mod the number of workers (csvreg__pool_workers), so a worker's
 * `local` sees the same tasks in the same order whatever the timing.
 * Returns 1 when tasks k, k + n, ... run in order on one thread each (pinned,
 * or one worker or none), 0 when they could not be pinned. */
int csvreg__pool_pin(pool *p);

/* The workers the pool runs (fewer than asked when a thread could not be
 * made; 0: tasks run on the submitting thread). */
size_t csvreg__pool_workers(const pool *p);

/* Hands `task` to the workers, waiting while `in_flight` tasks are held.
 * Returns 1, or 0 when an earlier task failed (then `task` is released at
 * once and nothing more need be submitted). */
int csvreg__pool_submit(pool *p, void *task);

/* Waits for every task and returns the first failure in submission order
 * (its error in *err), or CSVREG_OK. Call once. */
csvreg_status csvreg__pool_finish(pool *p, csvreg_error *err);

/* Stops the workers (waiting for the tasks they run) and frees the pool;
 * tasks not merged are released. NULL is a no-op. */
void csvreg__pool_free(pool *p);

#endif
