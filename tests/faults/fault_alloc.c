/*
 * fault_alloc.c - allocation-failure injection for the test build of the
 * program (csvreg_faults): linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc, every allocation the program and the static library make
 * comes here first. CSVREG_FAIL_ALLOC=k makes the k-th one (counting from 1,
 * over all threads) return NULL with errno ENOMEM; every other call goes on to
 * the real allocator (ASan's, in the sanitizer build). CSVREG_ALLOC_COUNT_FILE
 * names a file that gets the number of allocations made, written at exit, so
 * that a driver can first count a clean run and then fail each one in turn;
 * CSVREG_ALLOC_SITES_FILE one that gets a hash of each allocation's call
 * stack, a line each, so that it may fail only the first of each stack.
 * CSVREG_FAIL_ALLOC_TRACE prints the failing allocation's stack (where.sh).
 *
 * jansson is a shared library, out of reach of --wrap: a constructor routes
 * its allocations here with json_set_alloc_funcs. libcsv allocates only
 * through the reader's realloc callback, which calls realloc in the library
 * and so is wrapped already. Static OpenBLAS's buffers (mmap) and glibc's own
 * allocations (stdio buffers, getline, thread stacks) are not counted.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t n);
void *__wrap_realloc(void *p, size_t n);

static atomic_ulong calls;    /* allocations seen so far */
static unsigned long fail_at; /* 0: never fail */
static const char *count_file;
static const char *sites_file; /* CSVREG_ALLOC_SITES_FILE: one call-stack hash an allocation */
#define MAX_SITES 65536
static unsigned long long sites[MAX_SITES];
static int trace; /* CSVREG_FAIL_ALLOC_TRACE set: print where the failure was */

/* "file+0xoffset" a frame on stderr, for addr2line -e file -f -i offsets. */
static void print_trace(void) {
  void *frames[32];
  int n = backtrace(frames, 32);
  for (int i = 2; i < n; i++) {
    Dl_info info;
    if (dladdr(frames[i], &info) && info.dli_fname)
      fprintf(stderr, "fault_alloc: %s+%#lx\n", info.dli_fname,
              (unsigned long)((char *)frames[i] - (char *)info.dli_fbase) - 1);
  }
}

/* FNV-1a over the innermost return addresses (CSVREG_ALLOC_SITES_DEPTH
 * frames, 24 at most, the wrapper's three included): allocations made from
 * the same call stack (a loop over terms, say) get the same hash, so that a
 * driver may fail just one of them. jansson's parser and encoder recurse, so
 * the same allocation site is reached through stacks that differ only in how
 * deeply the document nests: a run of frames inside libjansson counts as its
 * innermost three (where it allocates) and its outermost (the API our code
 * called). Addresses hold within one run only. */
static int sites_depth = 24;
static void *jansson_base; /* libjansson's load address, for dladdr */

static int in_jansson(void *pc) {
  Dl_info info;
  return jansson_base && dladdr(pc, &info) && info.dli_fbase == jansson_base;
}

static unsigned long long stack_hash(void) {
  void *frames[128];
  int n = backtrace(frames, 128), kept = 0;
  unsigned long long h = 1469598103934665603ULL;
  for (int i = 0; i < n && kept < sites_depth; i++) {
    int last = i; /* the outermost frame of a libjansson run from i */
    if (in_jansson(frames[i]))
      while (last + 1 < n && in_jansson(frames[last + 1]))
        last++;
    for (int t = i; t <= last && kept < sites_depth; t++)
      if (t < i + 3 || t == last) {
        h ^= (unsigned long long)(uintptr_t)frames[t];
        h *= 1099511628211ULL;
        kept++;
      }
    i = last;
  }
  return h;
}

/* 1 when this call is the one to fail. */
static int fault_now(void) {
  unsigned long k = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
  if (sites_file && k <= MAX_SITES)
    sites[k - 1] = stack_hash();
  if (fail_at && k == fail_at) {
    if (trace)
      print_trace();
    errno = ENOMEM;
    return 1;
  }
  return 0;
}

void *__wrap_malloc(size_t n) { return fault_now() ? NULL : __real_malloc(n); }

void *__wrap_calloc(size_t count, size_t n) { return fault_now() ? NULL : __real_calloc(count, n); }

/* realloc(p, 0) frees on glibc; it is not an allocation that can fail. */
void *__wrap_realloc(void *p, size_t n) {
  if (n && fault_now())
    return NULL;
  return __real_realloc(p, n);
}

static void *json_alloc(size_t n) { return __wrap_malloc(n); }

static void write_sites(void) {
  FILE *f = fopen(sites_file, "w");
  if (!f)
    return;
  unsigned long n = atomic_load(&calls);
  for (unsigned long i = 0; i < n && i < MAX_SITES; i++)
    fprintf(f, "%llx\n", sites[i]);
  fclose(f);
}

static void write_count(void) {
  if (sites_file)
    write_sites();
  if (!count_file)
    return;
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%lu\n", atomic_load(&calls));
  int fd = open(count_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    if (write(fd, buf, (size_t)len) != len) {
      /* The driver treats a missing or short count as a failed run. */
    }
    close(fd);
  }
}

/* Runs before main, and with a priority before the library's constructors
 * without one (json_mem.c chains its counting allocator in front of
 * jansson's, which must be json_alloc by then); the counter counts from the
 * first allocation made after it. */
__attribute__((constructor(101))) static void fault_init(void) {
  const char *k = getenv("CSVREG_FAIL_ALLOC");
  if (k && *k)
    fail_at = strtoul(k, NULL, 10);
  count_file = getenv("CSVREG_ALLOC_COUNT_FILE");
  trace = getenv("CSVREG_FAIL_ALLOC_TRACE") != NULL;
  sites_file = getenv("CSVREG_ALLOC_SITES_FILE");
  const char *depth = getenv("CSVREG_ALLOC_SITES_DEPTH");
  if (depth && atoi(depth) > 0 && atoi(depth) < 24)
    sites_depth = atoi(depth);
  json_set_alloc_funcs(json_alloc, free);
  /* ISO C has no cast from a function to void *; POSIX's dladdr needs one. */
  union {
    json_t *(*fn)(void);
    void *p;
  } in_lib = {json_object};
  Dl_info info;
  if (sites_file && dladdr(in_lib.p, &info))
    jansson_base = info.dli_fbase;
  atexit(write_count);
}
