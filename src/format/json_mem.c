/*
 * json_mem.c - counts jansson's failed allocations, because jansson does not
 * say when it ran out of memory: a parser whose buffer could not grow reports
 * "invalid token" (or an empty error), json_copy drops members it could not
 * copy, and json_string returns NULL for both a non-UTF-8 string and no
 * memory. Every library function that builds or reads JSON compares the count
 * before and after and reports CSVREG_E_NOMEM when it moved, instead of a bad
 * file, a bad column name or a quietly incomplete document.
 *
 * The counting allocator forwards to the functions jansson had when it was
 * installed (malloc and free unless the program set its own), so a program
 * that also uses jansson sees the same allocator; the count is per thread, so
 * one thread's failure never turns another's bad file into "out of memory".
 */
#include <jansson.h>
#include <pthread.h>

#include "internal.h"
#include "json_mem.h"

static json_malloc_t next_malloc;
static json_free_t next_free;
static _Thread_local unsigned long failures;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *counting_malloc(size_t n) {
  void *p = next_malloc(n);
  if (!p)
    failures++;
  return p;
}

static void forwarding_free(void *p) { next_free(p); }

static void install(void) {
  json_get_alloc_funcs(&next_malloc, &next_free);
  json_set_alloc_funcs(counting_malloc, forwarding_free);
}

unsigned long json_mem_failures(void) {
  pthread_once(&installed, install);
  return failures;
}

csvreg_status json_mem_check(unsigned long mark, csvreg_status st, csvreg_error *err) {
  if (json_mem_failures() == mark)
    return st;
  return err_set(err, CSVREG_E_NOMEM, "out of memory");
}
