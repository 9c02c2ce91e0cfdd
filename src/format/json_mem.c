/*
 * json_mem.c - counts jansson's failed allocations, because jansson does not
 * say when it ran out of memory: a parser whose buffer could not grow reports
 * "invalid token" (or an empty error), json_copy drops members it could not
 * copy, json_dumps may return text with characters missing, and json_string
 * returns NULL for both a non-UTF-8 string and no memory. Every library
 * function that builds or reads JSON compares the count before and after and
 * reports CSVREG_E_NOMEM when it moved, instead of a bad file, a bad column
 * name or a quietly damaged document.
 *
 * jansson 2.14's parser can also crash when an allocation fails mid-token
 * (its lexer keeps going with a buffer it could not grow). So jansson never
 * sees the first failure: a reserve block is given back and the allocation
 * retried, the failure is counted all the same, and the call that made it
 * fails cleanly with CSVREG_E_NOMEM; the reserve is taken again before the
 * next JSON call.
 *
 * The counting allocator forwards to the functions jansson had when it was
 * installed (malloc and free unless the program set its own), so a program
 * that also uses jansson sees the same allocator; the count is per thread, so
 * one thread's failure never turns another's bad file into "out of memory".
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"
#include "json_mem.h"

#define RESERVE_BYTES (64 * 1024)

static json_malloc_t next_malloc;
static json_free_t next_free;
static void *_Atomic reserve;
static _Thread_local unsigned long failures;
static _Thread_local int reserve_failed; /* taking the reserve again failed */
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *counting_malloc(size_t n) {
  void *p = next_malloc(n);
  if (!p) {
    failures++;
    void *r = atomic_exchange(&reserve, NULL);
    if (r) {
      next_free(r);
      p = next_malloc(n);
    }
  }
  return p;
}

static void forwarding_free(void *p) { next_free(p); }

static void install(void) {
  json_get_alloc_funcs(&next_malloc, &next_free);
  json_set_alloc_funcs(counting_malloc, forwarding_free);
}

unsigned long csvreg__json_mem_failures(void) {
  pthread_once(&installed, install);
  if (!atomic_load(&reserve)) {
    void *r = next_malloc(RESERVE_BYTES), *none = NULL;
    if (!r)
      reserve_failed = 1;
    else if (!atomic_compare_exchange_strong(&reserve, &none, r))
      next_free(r); /* another thread took it again first */
  }
  return failures;
}

/* Installed when the library is loaded rather than at its first JSON call, so
 * that jansson used by the program itself (the csvreg program builds a
 * state's provenance with it) has the reserve too: without it a failed
 * allocation in json_dumps left out characters and fit --emit-state wrote
 * metadata that was not JSON (exit 2). Constructors run only for linked
 * objects; this one's is linked wherever the library reads or writes JSON. */
#if defined(__GNUC__) && defined(__ELF__)
__attribute__((constructor)) static void json_mem_init(void) { (void)csvreg__json_mem_failures(); }
#endif

csvreg_status csvreg__json_mem_check(unsigned long mark, csvreg_status st, csvreg_error *err) {
  if (failures == mark && !reserve_failed)
    return st;
  reserve_failed = 0;
  return csvreg__err_set(err, CSVREG_E_NOMEM, "out of memory");
}
