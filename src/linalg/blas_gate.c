/*
 * blas_gate.c - makes sure OpenBLAS can get its work buffer before the
 * library calls it (issue 17 item 7).
 *
 * OpenBLAS maps a work buffer (BLAS_BUFFER_BYTES, 128 MiB in Debian's build)
 * the first time a level-2/3 routine or a LAPACK routine that uses one runs,
 * keeps it for reuse, and maps another only when every buffer it has is in
 * use by a concurrent call. When that mmap fails (an RLIMIT_AS cap, strict
 * overcommit) its allocator retries forever: the process spins at 100% CPU.
 * It has no way to report the failure, so we never let it try one that would
 * fail:
 *   - csvreg__blas_ready, called by every constructor whose object will call
 *     the BLAS (accumulators, models, robust meat), maps and unmaps a region
 *     of the buffer's size first and returns CSVREG_E_NOMEM when that fails;
 *     when it succeeds it makes a tiny call at once so OpenBLAS takes its
 *     buffer then, and keeps it;
 *   - with the static OpenBLAS every program is linked with
 *     --wrap=blas_memory_alloc/--wrap=blas_memory_free (CMakeLists.txt), and
 *     the wrappers below count buffers in use: a call that would make
 *     OpenBLAS map one more buffer first probes for the room; without it, the
 *     call waits for a buffer another thread is using (the --threads workers)
 *     instead of spinning.
 */
#define _DEFAULT_SOURCE
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "internal.h"
#include "linalg.h"

/* OpenBLAS's BUFFER_SIZE on x86-64 (common_x86_64.h: 32 << 22), measured with
 * strace on Debian 12's 0.3.21: one 134217728-byte mmap at the first call. A
 * build with a smaller buffer only makes the probe cautious. */
#define BLAS_BUFFER_BYTES ((size_t)128 << 20)

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_freed = PTHREAD_COND_INITIALIZER;
static int gate_warm; /* the first buffer is taken: under gate_mu */
/* Counters read without the lock: every level-2/3 call of every --threads
 * worker passes the wrappers below, and one mutex taken twice per call by
 * two workers cost the wide 100k x 200 fit 13% more CPU on two threads than
 * on one (perf: pthread_mutex_lock/unlock and futex wakes). gate_buffers
 * grows only under gate_mu; sequentially consistent operations make a
 * waiter's "gate_waiters++, then read the lent count" and a free's "lent
 * count--, then read gate_waiters" see each other, so no wake-up is lost.
 *
 * gate_state holds two counts in one word, so that one CAS reads and moves
 * both: the buffers lent (low half: every call from before it asks OpenBLAS
 * until after it gave back) and the fast-path calls still inside OpenBLAS's
 * allocator (high half). OpenBLAS gives a call the first free slot and maps
 * one only when none is free, whichever call that is: a call let map one
 * more buffer must be the only one looking for a slot, or an earlier
 * fast-path call finds the existing buffer taken and maps outside the lock,
 * unprobed (numerics_blas_gate_stress hung that way). */
#define GATE_LENT(s) ((size_t)((s) & 0xffffffffu))
#define GATE_PENDING(s) ((size_t)((s) >> 32))
#define GATE_PENDING_ONE ((uint64_t)1 << 32)
static _Atomic size_t gate_buffers; /* buffers OpenBLAS has (as far as we know) */
static _Atomic uint64_t gate_state; /* lent | fast-path calls in the allocator << 32 */
static _Atomic size_t gate_waiters; /* calls waiting in the slow path */
static _Atomic size_t gate_taken;   /* buffers taken from OpenBLAS so far (tests) */
static _Atomic size_t gate_waits;   /* condition-variable waits so far (tests) */

/* 1 when a buffer-sized mapping fits in the address space now. */
static int room_for_buffer(void) {
  void *p =
      mmap(NULL, BLAS_BUFFER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 0;
  munmap(p, BLAS_BUFFER_BYTES);
  return 1;
}

csvreg_status csvreg__blas_ready(csvreg_error *err) {
  pthread_mutex_lock(&gate_mu);
  int warm = gate_warm;
  if (!warm && room_for_buffer()) {
    /* dtrsv always takes a buffer (interface/trsv.c), even for n = 1. The
     * lock is dropped for the call: the wrappers below take it. */
    pthread_mutex_unlock(&gate_mu);
    double a = 1.0, b = 1.0;
    cblas_dtrsv(CblasColMajor, CblasUpper, CblasNoTrans, CblasNonUnit, 1, &a, 1, &b, 1);
    pthread_mutex_lock(&gate_mu);
    warm = gate_warm = 1;
  }
  pthread_mutex_unlock(&gate_mu);
  if (!warm)
    return csvreg__err_set(err, CSVREG_E_NOMEM,
                           "out of memory: the BLAS needs a %zu MiB work buffer and the address "
                           "space has no room for it (ulimit -v?)",
                           BLAS_BUFFER_BYTES >> 20);
  return CSVREG_OK;
}

/* Weak: a program linked without --wrap (libcsvreg.so, a user's link of
 * libcsvreg.a) never calls the wrappers, and these stay unresolved. */
__attribute__((weak)) void *__real_blas_memory_alloc(int procpos);
__attribute__((weak)) void __real_blas_memory_free(void *buffer);
void *__wrap_blas_memory_alloc(int procpos);
void __wrap_blas_memory_free(void *buffer);

/* The buffer a thread holds between csvreg__blas_hold and
 * csvreg__blas_unhold: OpenBLAS's allocator takes one global mutex in
 * blas_memory_alloc and again in blas_memory_free, and dtpqrt calls dgemv
 * (which takes a buffer) once per column: on the wide 100k x 200 fit, two
 * --threads workers spent ~3% of their CPU in that mutex and its futex
 * wakes (perf record, call graphs through dtpqrt2_ -> dgemv_ ->
 * blas_memory_free). A held buffer is taken once and lent to each call of
 * the thread in turn; the calls of one thread never overlap, and OpenBLAS
 * uses the buffer only as scratch within a call. */
static _Thread_local struct {
  unsigned depth; /* csvreg__blas_hold calls not yet undone */
  void *buf;      /* the buffer taken at the first call inside, or NULL */
  int lent;       /* buf is lent to a call running now (a nested call) */
} held;

static void *gate_alloc(int procpos);
static void gate_free(void *buffer);

void csvreg__blas_hold(void) { held.depth++; }

void csvreg__blas_unhold(void) {
  if (held.depth && --held.depth == 0 && held.buf) {
    void *b = held.buf;
    held.buf = NULL;
    held.lent = 0;
    gate_free(b);
  }
}

void *__wrap_blas_memory_alloc(int procpos) {
  if (held.depth) {
    if (held.buf && !held.lent) {
      held.lent = 1;
      return held.buf;
    }
    void *b = gate_alloc(procpos);
    if (!held.buf && b) {
      held.buf = b;
      held.lent = 1;
    }
    return b;
  }
  return gate_alloc(procpos);
}

void __wrap_blas_memory_free(void *buffer) {
  if (buffer && buffer == held.buf) {
    held.lent = 0; /* kept for the thread's next call */
    return;
  }
  gate_free(buffer);
}

size_t csvreg__blas_taken(void) { return atomic_load(&gate_taken); }
size_t csvreg__blas_lent(void) { return GATE_LENT(atomic_load(&gate_state)); }
size_t csvreg__blas_buffers(void) { return atomic_load(&gate_buffers); }
size_t csvreg__blas_waits(void) { return atomic_load(&gate_waits); }

/* A buffer OpenBLAS returned: a new address is a buffer it has just mapped.
 * Under gate_mu. Counting addresses, not the calls that were let map one:
 * such a call may get a buffer another call gave back meanwhile, and OpenBLAS
 * then maps nothing (counting it anyway let a later call map past the cap
 * without a probe). Past GATE_MAX_BUFFERS addresses the count stays low,
 * which only sends more calls to the slow path. */
enum { GATE_MAX_BUFFERS = 256 }; /* OpenBLAS 0.3.21: NUM_BUFFERS, 50 or 2 x cpus */
static void *gate_seen[GATE_MAX_BUFFERS];

static void note_buffer(void *buffer) {
  size_t n = atomic_load(&gate_buffers);
  if (!buffer || n == GATE_MAX_BUFFERS)
    return;
  for (size_t i = 0; i < n; i++)
    if (gate_seen[i] == buffer)
      return;
  gate_seen[n] = buffer;
  atomic_store(&gate_buffers, n + 1);
}

static void *gate_alloc(int procpos) {
  atomic_fetch_add_explicit(&gate_taken, 1, memory_order_relaxed);
  /* Fast path: a buffer OpenBLAS has is free; take one without the lock.
   * Lent <= buffers after the CAS, and no call may map more while this one
   * is in the allocator (pending), so OpenBLAS has a mapped slot free for it
   * and maps nothing: every map happens on the slow path, under gate_mu. */
  uint64_t s = atomic_load(&gate_state);
  while (GATE_LENT(s) < atomic_load(&gate_buffers))
    if (atomic_compare_exchange_weak(&gate_state, &s, s + 1 + GATE_PENDING_ONE)) {
      void *b = __real_blas_memory_alloc(procpos);
      atomic_fetch_sub(&gate_state, GATE_PENDING_ONE);
      return b;
    }
  pthread_mutex_lock(&gate_mu);
  /* Every buffer busy: OpenBLAS would map one more. Let it only when the
   * room is there now; else wait for a call to give one back. With none
   * lent there is nothing to wait for (a call that bypassed
   * csvreg__blas_ready): let OpenBLAS try, as it would without us. */
  atomic_fetch_add(&gate_waiters, 1);
  for (;;) {
    s = atomic_load(&gate_state);
    if (GATE_LENT(s) < atomic_load(&gate_buffers)) {
      if (atomic_compare_exchange_weak(&gate_state, &s, s + 1))
        break;
      continue;
    }
    if (GATE_PENDING(s)) { /* fast-path calls finishing their take: brief */
      sched_yield();
      continue;
    }
    if (GATE_LENT(s) == 0 || room_for_buffer()) {
      /* one above buffers, with no other call in the allocator: OpenBLAS
       * maps for this call, here under the lock, or (a call gave one back
       * meanwhile) maps nothing. A failed CAS: the counts moved; look again. */
      if (atomic_compare_exchange_strong(&gate_state, &s, s + 1))
        break;
      continue;
    }
    atomic_fetch_add_explicit(&gate_waits, 1, memory_order_relaxed);
    pthread_cond_wait(&gate_freed, &gate_mu);
  }
  atomic_fetch_sub(&gate_waiters, 1);
  /* OpenBLAS's call, and its map, inside the lock: the next call here must
   * not probe for room before this map has taken it (with the lock dropped
   * first, two calls both found room for the one buffer a cap allowed, both
   * mapped, and OpenBLAS retried the failed map forever). */
  void *b = __real_blas_memory_alloc(procpos);
  note_buffer(b);
  pthread_mutex_unlock(&gate_mu);
  return b;
}

static void gate_free(void *buffer) {
  __real_blas_memory_free(buffer);
  atomic_fetch_sub(&gate_state, 1);
  if (atomic_load(&gate_waiters)) {
    pthread_mutex_lock(&gate_mu);
    pthread_cond_broadcast(&gate_freed);
    pthread_mutex_unlock(&gate_mu);
  }
}
