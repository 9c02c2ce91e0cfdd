/*
 * stdin_blocks.c - fit --threads N on a stream (standard input): the main
 * thread reads it in large blocks, N workers parse them, and their
 * accumulators are merged in block order.
 *
 * A block ends after the last line feed outside quotes. RFC 4180: a line
 * feed ends a record only after an even number of quotes since the record
 * began, so the quote parity is tracked over the whole stream and carried
 * from block to block; the bytes after the cut start the next block. As in
 * csvreg_range_align, a stray quote inside an unquoted field (libcsv reads
 * it as a literal) would throw the parity off: such input is not RFC 4180.
 * A stream with no line feed outside quotes in max_record + one block bytes
 * (a record too long, or lone-CR line ends) is an error, as a record too long
 * is for one thread.
 *
 * Merging is exact algebra but not the same rounding in every order, so the
 * blocks are merged in stream order whatever thread finishes first: a
 * finished block waits in a ring of 2N slots until the blocks before it are
 * merged, and the reader waits while 2N blocks are in flight, so memory is
 * bounded by about 2N + 1 blocks. The first error in stream order wins: it
 * is the first one met when merging in order. Each block's memory reader
 * counts lines from the block's start; the lines before it are added.
 *
 * CSVREG_STDIN_BLOCK=BYTES (tests only) sets the block size, to force many
 * blocks and records that straddle them on small inputs.
 */
#define _GNU_SOURCE /* memrchr */
#include <cblas.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shard.h"

/* At most about 2N + 1 blocks are held (see above), so the block size sets
 * --threads memory on a pipe: with N = 2 on 2M rows x 11 columns, 14-15 MiB
 * peak with 1 MiB blocks against 35-39 MiB with 4 MiB, at the same speed
 * within this machine's noise. */
#define BLOCK_BYTES ((size_t)1 << 20)

typedef struct block {
  unsigned char *data;
  size_t len;
  uint64_t lines_before;
  int done;
  csvreg_accum *acc;
  uint64_t chunks;
  csvreg_status st;
  csvreg_error err;
} block;

typedef struct pool {
  pthread_mutex_t mu;
  pthread_cond_t can_take; /* a block is queued, or the input ended, or stop */
  pthread_cond_t can_put;  /* a slot was freed, or stop */
  block *ring;
  size_t cap;
  uint64_t next_read, next_take, next_merge; /* block numbers */
  int eof, stop;
  const char *source;
  const csvreg_reader_options *ro;
  const csvreg_spec *spec;
  csvreg_solver solver;
  size_t chunk_rows;
  csvreg_accum *total;
  uint64_t chunks;
  csvreg_status st; /* the first failure in stream order */
  csvreg_error err;
} pool;

static void block_parse(pool *p, block *b, csvreg_chunk **chunk) {
  csvreg_error *err = &b->err;
  csvreg_reader *r = NULL;
  csvreg_error_clear(err);
  if ((!*chunk && (b->st = csvreg_chunk_new(chunk, p->spec, p->chunk_rows, err))) ||
      (b->st = csvreg_reader_open_mem(&r, b->data, b->len, p->source, p->ro, err)) ||
      (b->st = csvreg_accum_new_for_spec(&b->acc, p->spec, p->solver, err)))
    goto done;
  b->st = shard_fold_reader(r, *chunk, b->acc, &b->chunks, err);
done:
  if (b->st && err->line) {
    err->line += b->lines_before;
    err->record = 0; /* counted from the block's start: unknown here */
  }
  csvreg_reader_free(r);
}

static void block_release(block *b) {
  free(b->data);
  csvreg_accum_free(b->acc);
  memset(b, 0, sizeof *b);
}

/* With the lock held: marks `b` parsed and merges every finished block that
 * follows the merged ones, in order. */
static void block_finish(pool *p, block *b) {
  b->done = 1;
  while (p->next_merge < p->next_read) {
    block *m = &p->ring[p->next_merge % p->cap];
    if (!m->done)
      break;
    if (!p->stop) {
      if (m->st) {
        p->st = m->st;
        p->err = m->err;
        p->err.status = m->st;
        p->stop = 1;
      } else if ((p->st = csvreg_accum_merge(p->total, m->acc, &p->err))) {
        p->stop = 1;
      } else {
        p->chunks += m->chunks;
      }
    }
    block_release(m);
    p->next_merge++;
  }
  pthread_cond_broadcast(&p->can_put);
  if (p->stop)
    pthread_cond_broadcast(&p->can_take);
}

static void *worker(void *arg) {
  pool *p = arg;
  csvreg_chunk *chunk = NULL;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->next_take == p->next_read && !p->eof)
      pthread_cond_wait(&p->can_take, &p->mu);
    if (p->stop || p->next_take == p->next_read)
      break;
    block *b = &p->ring[p->next_take++ % p->cap];
    pthread_mutex_unlock(&p->mu);
    block_parse(p, b, &chunk); /* the slot stays ours until it is merged */
    pthread_mutex_lock(&p->mu);
    block_finish(p, b);
  }
  pthread_mutex_unlock(&p->mu);
  csvreg_chunk_free(chunk);
  return NULL;
}

/* Hands `data` (owned from here on) to the workers, or with no worker
 * parses it here. Returns 0 when stopped. */
static int block_put(pool *p, unsigned char *data, size_t len, uint64_t lines_before,
                     size_t nworkers, csvreg_chunk **own_chunk) {
  pthread_mutex_lock(&p->mu);
  while (!p->stop && p->next_read - p->next_merge >= p->cap)
    pthread_cond_wait(&p->can_put, &p->mu);
  if (p->stop) {
    pthread_mutex_unlock(&p->mu);
    free(data);
    return 0;
  }
  block *b = &p->ring[p->next_read++ % p->cap];
  memset(b, 0, sizeof *b);
  b->data = data;
  b->len = len;
  b->lines_before = lines_before;
  if (nworkers) {
    pthread_cond_signal(&p->can_take);
  } else {
    p->next_take++;
    pthread_mutex_unlock(&p->mu);
    block_parse(p, b, own_chunk);
    pthread_mutex_lock(&p->mu);
    block_finish(p, b);
  }
  int go = !p->stop;
  pthread_mutex_unlock(&p->mu);
  return go;
}

/* Physical lines in b[0, n) as the reader counts them: LF, CRLF, lone CR. */
static uint64_t count_lines(const unsigned char *b, size_t n) {
  uint64_t k = 0;
  const unsigned char *p = b, *e = b + n;
  while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL)
    k++, p++;
  for (p = b; (p = memchr(p, '\r', (size_t)(e - p))) != NULL; p++)
    k += p + 1 == e || p[1] != '\n';
  return k;
}

/* Scans b[from, to) with the quote parity *odd at `from`: returns the end of
 * the last line feed outside quotes (or `cut` if none), jumping from quote
 * to quote with memchr rather than testing every byte. */
static size_t scan_cut(const unsigned char *b, size_t from, size_t to, unsigned *odd, size_t cut) {
  size_t i = from;
  while (i < to) {
    const unsigned char *q = memchr(b + i, '"', to - i);
    size_t e = q ? (size_t)(q - b) : to;
    if (!*odd) {
      const unsigned char *lf = memrchr(b + i, '\n', e - i);
      if (lf)
        cut = (size_t)(lf - b) + 1;
    }
    if (!q)
      break;
    *odd ^= 1u;
    i = e + 1;
  }
  return cut;
}

static size_t block_bytes(void) {
  const char *e = getenv("CSVREG_STDIN_BLOCK");
  if (e && *e) {
    char *end;
    unsigned long long v = strtoull(e, &end, 10);
    if (!*end && v > 0 && v <= ((size_t)1 << 30))
      return (size_t)v;
  }
  return BLOCK_BYTES;
}

/* The main thread's part: read, cut, hand out. Returns the stream's own
 * failure (I/O, a record too long), which only counts if no block before
 * it failed. */
static csvreg_status read_blocks(pool *p, int fd, const void *lead, size_t lead_len, uint64_t lines,
                                 size_t nworkers, uint64_t *bytes, csvreg_error *err) {
  size_t bs = block_bytes();
  size_t max_rec = p->ro->max_record_bytes ? p->ro->max_record_bytes : CSVREG_DEFAULT_MAX_RECORD;
  size_t cap = bs + lead_len, len = lead_len, scanned = 0, cut = 0;
  unsigned odd = 0;
  int eof = 0;
  csvreg_chunk *own_chunk = NULL;
  csvreg_status st = CSVREG_OK;
  unsigned char *buf = malloc(cap);
  if (!buf)
    return err->status = CSVREG_E_NOMEM;
  if (lead_len)
    memcpy(buf, lead, lead_len);
  while (!eof) {
    while (len < cap && !eof) {
      ssize_t r = read(fd, buf + len, cap - len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        snprintf(err->source, sizeof err->source, "%s", p->source);
        snprintf(err->message, sizeof err->message, "cannot read: %s", strerror(errno));
        st = err->status = CSVREG_E_IO;
        goto done;
      }
      if (r == 0)
        eof = 1;
      *bytes += (uint64_t)r;
      len += (size_t)r;
    }
    cut = scan_cut(buf, scanned, len, &odd, cut);
    scanned = len;
    if (eof && len == 0)
      break;
    if (eof)
      cut = len;
    if (cut == 0) { /* no record ends in the buffer: grow it */
      if (cap - bs >= max_rec) {
        snprintf(err->source, sizeof err->source, "%s", p->source);
        snprintf(err->message, sizeof err->message,
                 "record starting on line %llu is longer than %zu bytes (or its line ends are "
                 "lone CRs, which --threads on a stream does not read)",
                 (unsigned long long)lines + 1, max_rec);
        err->line = lines + 1;
        st = err->status = CSVREG_E_LIMIT;
        goto done;
      }
      size_t ncap = cap * 2 - bs > max_rec + bs ? max_rec + bs : cap * 2;
      unsigned char *t = realloc(buf, ncap);
      if (!t) {
        st = err->status = CSVREG_E_NOMEM;
        goto done;
      }
      buf = t;
      cap = ncap;
      continue;
    }
    size_t rest = len - cut;
    unsigned char *next = eof ? NULL : malloc(rest + bs);
    if (!eof && !next) {
      st = err->status = CSVREG_E_NOMEM;
      goto done;
    }
    if (rest)
      memcpy(next, buf + cut, rest);
    uint64_t n = count_lines(buf, cut);
    if (!block_put(p, buf, cut, lines, nworkers, &own_chunk)) {
      buf = next;
      break; /* a block before failed: what follows does not matter */
    }
    lines += n;
    buf = next;
    cap = rest + bs;
    len = scanned = rest;
    cut = 0;
  }
done:
  free(buf);
  csvreg_chunk_free(own_chunk);
  return st;
}

csvreg_status shard_fold_blocks(int fd, const char *source, const void *lead, size_t lead_len,
                                uint64_t lines_before, const csvreg_reader_options *ro,
                                const csvreg_spec *spec, csvreg_solver solver, size_t chunk_rows,
                                size_t threads, csvreg_accum *acc, uint64_t *chunks,
                                uint64_t *bytes, csvreg_error *err) {
  pool p;
  memset(&p, 0, sizeof p);
  p.cap = 2 * threads;
  p.ring = calloc(p.cap, sizeof *p.ring);
  pthread_t *tid = calloc(threads, sizeof *tid);
  if (!p.ring || !tid) {
    free(p.ring);
    free(tid);
    return err->status = CSVREG_E_NOMEM;
  }
  p.source = source;
  p.ro = ro;
  p.spec = spec;
  p.solver = solver;
  p.chunk_rows = chunk_rows;
  p.total = acc;
  csvreg_error_clear(&p.err);
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.can_take, NULL);
  pthread_cond_init(&p.can_put, NULL);
  /* One BLAS thread per worker, unless the user chose (as for ranges). */
  if (!getenv("OPENBLAS_NUM_THREADS"))
    openblas_set_num_threads(1);
  size_t nworkers = 0;
  for (size_t t = 0; t < threads; t++)
    if (pthread_create(&tid[nworkers], NULL, worker, &p) == 0)
      nworkers++;
  csvreg_error rerr;
  csvreg_error_clear(&rerr);
  csvreg_status rst = read_blocks(&p, fd, lead, lead_len, lines_before, nworkers, bytes, &rerr);
  pthread_mutex_lock(&p.mu);
  p.eof = 1;
  pthread_cond_broadcast(&p.can_take);
  pthread_mutex_unlock(&p.mu);
  for (size_t t = 0; t < nworkers; t++)
    pthread_join(tid[t], NULL);
  for (; p.next_merge < p.next_read; p.next_merge++) /* left after a failure */
    block_release(&p.ring[p.next_merge % p.cap]);
  csvreg_status st = p.st;
  if (st) {
    *err = p.err;
  } else if (rst) {
    *err = rerr;
    st = rst;
  } else {
    *chunks += p.chunks;
  }
  pthread_cond_destroy(&p.can_put);
  pthread_cond_destroy(&p.can_take);
  pthread_mutex_destroy(&p.mu);
  free(p.ring);
  free(tid);
  return st;
}
