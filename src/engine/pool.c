/*
 * pool.c - the ordered block pool (pool.h), generalised from fit's former
 * stdin block reader: a ring of `in_flight` slots; workers take the oldest
 * queued task, run it without the lock, then, with the lock, mark it done
 * and merge every finished task that follows the merged ones, in order.
 * Merging is exact algebra but not the same rounding in every order, hence
 * the fixed order. The first failure in submission order wins: it is the
 * first one met when merging in order; after it nothing more is merged or
 * run, and the submitter is told to stop.
 */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define TICK_NS 100000000L

typedef struct slot {
  void *task;
  int done;
  csvreg_status st;
  csvreg_error err;
} slot;

struct pool {
  pthread_mutex_t mu;
  pthread_cond_t can_take; /* a task is queued, or the end, or stop */
  pthread_cond_t changed;  /* a slot was freed or a task merged, or stop */
  slot *ring;
  size_t cap;
  unsigned long long next_put, next_take, next_merge;
  int end, stop, finished;
  int merging; /* a thread is in finish_task's merge loop (it drops the lock) */
  const pool_ops *ops;
  void *ctx;
  pthread_t *tid;
  size_t nworkers;
  /* pinned (csvreg__pool_pin): worker w takes tasks w, w + n, w + 2n ...;
   * pin_next[w] is its next one, its number `w` from pin_ids */
  int pinned;
  unsigned long long *pin_next;
  /* pinned: worker w waits on pin_cv[w], so a submission wakes only the
   * worker whose task it is (a broadcast on can_take woke every idle worker
   * for each block, all but one to sleep again: on a pipe, where the workers
   * wait for the reading thread, ~one wasted wake-up per block) */
  pthread_cond_t *pin_cv;
  size_t npin; /* pin_cv's count (nworkers when pinned) */
  size_t next_id;
  void *inline_local;  /* the submitter's local when there are no workers */
  long long last_tick; /* monotonic ns of the last tick */
  csvreg_status st;
  csvreg_error err;
};

static void run_task(pool *p, slot *s, void **local) {
  csvreg_error_clear(&s->err);
  s->st = p->ops->run(p->ctx, s->task, local, &s->err);
  if (s->st != CSVREG_OK && s->err.status != s->st)
    s->err.status = s->st;
}

/* With the lock held: wakes every waiting worker (the end, or stop). */
static void wake_all(pool *p) {
  pthread_cond_broadcast(&p->can_take);
  for (size_t w = 0; w < p->npin; w++)
    pthread_cond_broadcast(&p->pin_cv[w]);
}

/* With the lock held: marks `s` done and merges what can be, in order. One
 * thread merges at a time (`merging`), without the lock: a merge may be long
 * (a wide accumulator's is O(columns^3); predict's writes a piece's text)
 * and, under the lock, it kept the other workers from taking tasks and the
 * submitter from handing them out. A thread that finishes a task while
 * another merges leaves its slot to that one, which looks again after each
 * merge. The slot being merged stays held (next_merge moves after it), so
 * no submission reuses it meanwhile; only the merging thread sets `stop`. */
static void finish_task(pool *p, slot *s) {
  s->done = 1;
  if (p->merging)
    return;
  p->merging = 1;
  while (p->next_merge < p->next_put) {
    slot *m = &p->ring[p->next_merge % p->cap];
    if (!m->done)
      break;
    const int stopped = p->stop;
    pthread_mutex_unlock(&p->mu);
    csvreg_status st = CSVREG_OK;
    csvreg_error e;
    csvreg_error_clear(&e);
    if (!stopped) {
      if (m->st != CSVREG_OK) {
        st = m->st;
        e = m->err;
      } else if ((st = p->ops->merge(p->ctx, m->task, &e)) != CSVREG_OK) {
        e.status = st;
      }
    }
    p->ops->release(p->ctx, m->task);
    pthread_mutex_lock(&p->mu);
    if (st != CSVREG_OK) {
      p->st = st;
      p->err = e;
      p->stop = 1;
      wake_all(p);
    }
    memset(m, 0, sizeof *m);
    p->next_merge++;
    pthread_cond_broadcast(&p->changed);
  }
  p->merging = 0;
  pthread_cond_broadcast(&p->changed);
}

/* With the lock held: whether worker `id` has a task to take, and taking it. */
static int has_task(const pool *p, size_t id) {
  return p->pinned ? p->pin_next[id] < p->next_put : p->next_take < p->next_put;
}

static slot *take_task(pool *p, size_t id) {
  if (!p->pinned)
    return &p->ring[p->next_take++ % p->cap];
  slot *s = &p->ring[p->pin_next[id] % p->cap];
  p->pin_next[id] += p->nworkers;
  return s;
}

static void *worker(void *arg) {
  pool *p = arg;
  void *local = NULL;
  pthread_mutex_lock(&p->mu);
  const size_t id = p->next_id++;
  for (;;) {
    while (!p->stop && !has_task(p, id) && !p->end)
      pthread_cond_wait(p->pinned ? &p->pin_cv[id] : &p->can_take, &p->mu);
    if (p->stop || !has_task(p, id))
      break;
    slot *s = take_task(p, id);
    pthread_mutex_unlock(&p->mu);
    run_task(p, s, &local); /* the slot stays ours until it is merged */
    pthread_mutex_lock(&p->mu);
    finish_task(p, s);
  }
  /* After a stop, tasks nobody took are released by csvreg__pool_free. */
  pthread_mutex_unlock(&p->mu);
  if (local && p->ops->local_free)
    p->ops->local_free(p->ctx, local);
  return NULL;
}

/* With the lock held and the caller's condition just checked: waits on
 * `changed` for at most TICK_NS, then calls tick (without the lock) when
 * TICK_NS have passed since the last one; the caller checks again. Waiting
 * before ticking loses no wake-up. */
static void wait_tick(pool *p) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += TICK_NS;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&p->changed, &p->mu, &ts);
  if (!p->ops->tick)
    return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
  if (ns - p->last_tick < TICK_NS)
    return;
  p->last_tick = ns;
  pthread_mutex_unlock(&p->mu);
  p->ops->tick(p->ctx);
  pthread_mutex_lock(&p->mu);
}

csvreg_status csvreg__pool_new(pool **out, size_t threads, size_t in_flight, const pool_ops *ops,
                               void *ctx, csvreg_error *err) {
  if (!out || !ops || !ops->run || !ops->merge || !ops->release || in_flight == 0)
    return csvreg__err_set(err, CSVREG_E_USAGE, "csvreg__pool_new: bad argument");
  *out = NULL;
  pool *p = calloc(1, sizeof *p);
  if (!p)
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  p->cap = in_flight;
  p->ring = calloc(in_flight, sizeof *p->ring);
  p->tid = threads ? calloc(threads, sizeof *p->tid) : NULL;
  if (!p->ring || (threads && !p->tid)) {
    free(p->ring);
    free(p->tid);
    free(p);
    return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
  }
  p->ops = ops;
  p->ctx = ctx;
  csvreg_error_clear(&p->err);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->can_take, NULL);
  pthread_cond_init(&p->changed, NULL);
  /* A thread that cannot be made is one fewer worker; with none, tasks run
   * on the submitting thread. */
  for (size_t t = 0; t < threads; t++)
    if (pthread_create(&p->tid[p->nworkers], NULL, worker, p) == 0)
      p->nworkers++;
  *out = p;
  return CSVREG_OK;
}

int csvreg__pool_submit(pool *p, void *task) {
  pthread_mutex_lock(&p->mu);
  while (!p->stop && p->next_put - p->next_merge >= p->cap)
    wait_tick(p);
  if (p->stop) {
    pthread_mutex_unlock(&p->mu);
    p->ops->release(p->ctx, task);
    return 0;
  }
  slot *s = &p->ring[p->next_put++ % p->cap];
  memset(s, 0, sizeof *s);
  s->task = task;
  if (p->nworkers) {
    if (p->pinned) /* the one worker whose turn it is */
      pthread_cond_signal(&p->pin_cv[(p->next_put - 1) % p->nworkers]);
    else
      pthread_cond_signal(&p->can_take);
  } else {
    p->next_take++;
    pthread_mutex_unlock(&p->mu);
    run_task(p, s, &p->inline_local);
    pthread_mutex_lock(&p->mu);
    finish_task(p, s);
  }
  int go = !p->stop;
  pthread_mutex_unlock(&p->mu);
  if (go && p->ops->tick)
    p->ops->tick(p->ctx);
  return go;
}

/* Joins the workers once; afterwards no task runs. */
static void stop_workers(pool *p) {
  pthread_mutex_lock(&p->mu);
  p->end = 1;
  wake_all(p);
  pthread_mutex_unlock(&p->mu);
  for (size_t t = 0; t < p->nworkers; t++)
    pthread_join(p->tid[t], NULL);
  p->nworkers = 0;
}

csvreg_status csvreg__pool_finish(pool *p, csvreg_error *err) {
  pthread_mutex_lock(&p->mu);
  p->end = 1;
  wake_all(p);
  while (!p->stop && p->next_merge < p->next_put)
    wait_tick(p);
  pthread_mutex_unlock(&p->mu);
  stop_workers(p);
  p->finished = 1;
  if (p->st != CSVREG_OK && err)
    *err = p->err;
  return p->st;
}

int csvreg__pool_pin(pool *p) {
  pthread_mutex_lock(&p->mu);
  if (p->nworkers > 1 && p->next_put == 0 && !p->pin_next) {
    p->pin_next = calloc(p->nworkers, sizeof *p->pin_next);
    p->pin_cv = calloc(p->nworkers, sizeof *p->pin_cv);
    if (p->pin_next && p->pin_cv) { /* else unpinned: tasks go to whoever is free */
      for (size_t w = 0; w < p->nworkers; w++) {
        p->pin_next[w] = w;
        pthread_cond_init(&p->pin_cv[w], NULL);
      }
      p->pinned = 1;
      p->npin = p->nworkers;
      /* workers already waiting on can_take wait again on their own */
      pthread_cond_broadcast(&p->can_take);
    } else {
      free(p->pin_next);
      free(p->pin_cv);
      p->pin_next = NULL;
      p->pin_cv = NULL;
    }
  }
  int in_lanes = p->pinned || p->nworkers <= 1;
  pthread_mutex_unlock(&p->mu);
  return in_lanes;
}

size_t csvreg__pool_workers(const pool *p) { return p ? p->nworkers : 0; }

void csvreg__pool_free(pool *p) {
  if (!p)
    return;
  stop_workers(p);
  /* Left after a failure: queued tasks nobody ran, or ran but not merged. */
  for (; p->next_merge < p->next_put; p->next_merge++) {
    slot *s = &p->ring[p->next_merge % p->cap];
    p->ops->release(p->ctx, s->task);
  }
  if (p->inline_local && p->ops->local_free)
    p->ops->local_free(p->ctx, p->inline_local);
  pthread_cond_destroy(&p->changed);
  pthread_cond_destroy(&p->can_take);
  pthread_mutex_destroy(&p->mu);
  free(p->ring);
  for (size_t w = 0; w < p->npin; w++)
    pthread_cond_destroy(&p->pin_cv[w]);
  free(p->pin_cv);
  free(p->pin_next);
  free(p->tid);
  free(p);
}
