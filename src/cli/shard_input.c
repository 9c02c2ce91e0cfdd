/*
 * shard_input.c - rows of one shard into an accumulator.
 *
 * A byte range of a regular file is aligned to records by the library's
 * quote-parity scan (csvreg_range_align), mapped read-only, and read by a
 * memory reader without a header: the names come from the file's own header,
 * read once from its start. Pages behind the reader are dropped as it goes,
 * so memory stays bounded by the chunk, not the range. --threads N cuts the
 * range in N sub-ranges, one thread and one accumulator each, merged in
 * range order, so the result does not depend on thread timing.
 *
 * A stream (stdin, a pipe) is read once; its first line is read by hand, one
 * byte at a time, so that its length is known exactly (merge checks byte
 * coverage) and, for Hadoop-style splits, a first line that is not the
 * header can still be folded as data. With --threads N the rest is cut into
 * record-aligned blocks parsed on N threads (stdin_blocks.c).
 */
#define _DEFAULT_SOURCE
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shard.h"

void shard_names_free(shard_names *nm) {
  if (!nm || !nm->names)
    return;
  for (size_t i = 0; i < nm->n; i++)
    free(nm->names[i]);
  free(nm->names);
  nm->names = NULL;
  nm->n = 0;
}

static char *dupn(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static csvreg_status names_copy(shard_names *nm, const char *const *v, size_t n,
                                csvreg_error *err) {
  nm->names = calloc(n ? n : 1, sizeof *nm->names);
  if (!nm->names)
    return err->status = CSVREG_E_NOMEM;
  nm->n = n;
  for (size_t i = 0; i < n; i++)
    if (!(nm->names[i] = dupn(v[i], strlen(v[i]))))
      return err->status = CSVREG_E_NOMEM;
  return CSVREG_OK;
}

csvreg_status shard_names_from_file(shard_names *nm, const char *path,
                                    const csvreg_reader_options *ro, csvreg_error *err) {
  memset(nm, 0, sizeof *nm);
  csvreg_reader *r = NULL;
  csvreg_status st = csvreg_reader_open(&r, path, ro, err);
  if (!st)
    st = names_copy(nm, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), err);
  csvreg_reader_free(r);
  return st;
}

csvreg_status shard_names_given(shard_names *nm, const char *columns, const char *header_line,
                                char delimiter, csvreg_error *err) {
  memset(nm, 0, sizeof *nm);
  nm->given = 1;
  if (columns) {
    size_t n = 1;
    for (const char *p = columns; *p; p++)
      n += *p == ',';
    nm->names = calloc(n, sizeof *nm->names);
    if (!nm->names)
      return err->status = CSVREG_E_NOMEM;
    const char *p = columns;
    for (size_t i = 0; i < n; i++) {
      size_t len = strcspn(p, ",");
      if (!(nm->names[nm->n++] = dupn(p, len)))
        return err->status = CSVREG_E_NOMEM;
      p += len + (p[len] == ',');
    }
    return CSVREG_OK;
  }
  csvreg_reader_options ro;
  csvreg_reader_options_init(&ro);
  ro.delimiter = delimiter;
  csvreg_reader *r = NULL;
  csvreg_status st =
      csvreg_reader_open_mem(&r, header_line, strlen(header_line), "--header-line", &ro, err);
  if (!st)
    st = names_copy(nm, csvreg_reader_column_names(r), csvreg_reader_ncolumns(r), err);
  csvreg_reader_free(r);
  return st;
}

/* Every record of `r` into `acc` through `chunk`. `drop` (may be NULL) is
 * called after each chunk with the bytes consumed, to release pages. */
static csvreg_status fold_reader(csvreg_reader *r, csvreg_chunk *chunk, csvreg_accum *acc,
                                 uint64_t *chunks, void (*drop)(void *, uint64_t), void *ctx,
                                 csvreg_error *err) {
  csvreg_status st;
  do {
    st = csvreg_chunk_fill(chunk, r, err);
    if (csvreg_is_error(st))
      return st;
    if (csvreg_chunk_counts(chunk)->records > 0)
      (*chunks)++;
    csvreg_status st2 = csvreg_accum_add_chunk(acc, chunk, err);
    if (st2)
      return st2;
    if (drop)
      drop(ctx, csvreg_reader_bytes(r));
  } while (st != CSVREG_END);
  return CSVREG_OK;
}

csvreg_status shard_fold_reader(csvreg_reader *r, csvreg_chunk *chunk, csvreg_accum *acc,
                                uint64_t *chunks, csvreg_error *err) {
  return fold_reader(r, chunk, acc, chunks, NULL, NULL, err);
}

/* ---- byte ranges of a regular file ---- */

typedef struct range_work {
  const char *path;
  const csvreg_reader_options *ro;
  const csvreg_spec *spec;
  csvreg_solver solver;
  size_t chunk_rows;
  uint64_t start, end, size;
  csvreg_accum *acc;
  csvreg_range range;
  uint64_t chunks;
  csvreg_status st;
  csvreg_error err;
  /* the mapping */
  unsigned char *map;
  size_t map_len, lead, dropped;
} range_work;

static void range_drop(void *ctx, uint64_t consumed) {
  range_work *w = ctx;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t upto = w->lead + (size_t)consumed;
  upto = upto > page ? (upto - page) / page * page : 0;
  if (upto > w->dropped) {
    /* Clean file pages: dropping them only means re-reading if touched. */
    madvise(w->map + w->dropped, upto - w->dropped, MADV_DONTNEED);
    w->dropped = upto;
  }
}

static void *range_run(void *arg) {
  range_work *w = arg;
  csvreg_error *err = &w->err;
  csvreg_reader *r = NULL;
  csvreg_chunk *chunk = NULL;
  int fd = open(w->path, O_RDONLY);
  if (fd < 0) {
    err->status = w->st = CSVREG_E_IO;
    snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
    snprintf(err->source, sizeof err->source, "%s", w->path);
    return NULL;
  }
  w->st = csvreg_range_align(fd, w->size, w->ro->header, w->start, w->end, &w->range, err);
  if (w->st)
    goto done;
  const unsigned char *data = (const unsigned char *)"";
  size_t len = (size_t)(w->range.end - w->range.start);
  if (len) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t moff = w->range.start / page * page;
    w->lead = (size_t)(w->range.start - moff);
    w->map_len = w->lead + len;
    void *m = mmap(NULL, w->map_len, PROT_READ, MAP_PRIVATE, fd, (off_t)moff);
    if (m == MAP_FAILED) {
      w->st = err->status = CSVREG_E_IO;
      snprintf(err->message, sizeof err->message, "cannot map: %s", strerror(errno));
      goto done;
    }
    w->map = m;
    madvise(w->map, w->map_len, MADV_SEQUENTIAL);
    data = w->map + w->lead;
  }
  csvreg_reader_options ro = *w->ro;
  ro.header = 0; /* the names come from the file's start */
  if ((w->st = csvreg_reader_open_mem(&r, data, len, w->path, &ro, err)) ||
      (w->st = csvreg_chunk_new(&chunk, w->spec, w->chunk_rows, err)) ||
      (w->st = csvreg_accum_new_for_spec(&w->acc, w->spec, w->solver, err)))
    goto done;
  w->st = fold_reader(r, chunk, w->acc, &w->chunks, range_drop, w, err);
  if (w->st && err->line) { /* the memory reader counts lines from the range's start */
    err->line += w->range.lines_before;
    err->record = 0;
  }
done:
  if (w->st && !err->source[0])
    snprintf(err->source, sizeof err->source, "%s", w->path);
  csvreg_chunk_free(chunk);
  csvreg_reader_free(r);
  if (w->map)
    munmap(w->map, w->map_len);
  w->map = NULL;
  close(fd);
  return NULL;
}

csvreg_status shard_fold_range(const char *path, const csvreg_reader_options *ro,
                               const csvreg_spec *spec, csvreg_solver solver, size_t chunk_rows,
                               uint64_t start, uint64_t end, size_t threads, csvreg_accum *acc,
                               shard_prov *prov, csvreg_error *err) {
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    snprintf(err->source, sizeof err->source, "%s", path);
    snprintf(err->message, sizeof err->message, "byte ranges and threads need a regular file");
    return err->status = CSVREG_E_USAGE;
  }
  uint64_t size = (uint64_t)sb.st_size;
  if (end > size)
    end = size;
  if (start > end)
    start = end;
  if (threads < 1)
    threads = 1;
  /* Small ranges gain nothing from threads. */
  if ((end - start) / threads < ((uint64_t)1 << 16))
    threads = (end - start) >> 16 ? (size_t)((end - start) >> 16) : 1;
  range_work *w = calloc(threads, sizeof *w);
  pthread_t *tid = calloc(threads, sizeof *tid);
  char *started = calloc(threads, 1);
  if (!w || !tid || !started) {
    free(w);
    free(tid);
    free(started);
    return err->status = CSVREG_E_NOMEM;
  }
  /* One BLAS thread per worker, unless the user chose (OpenBLAS reads its
   * variable at start-up; the call overrides only its default). */
  if (threads > 1 && !getenv("OPENBLAS_NUM_THREADS"))
    openblas_set_num_threads(1);
  for (size_t t = 0; t < threads; t++) {
    w[t].path = path;
    w[t].ro = ro;
    w[t].spec = spec;
    w[t].solver = solver;
    w[t].chunk_rows = chunk_rows;
    w[t].size = size;
    w[t].start = start + (end - start) * t / threads;
    w[t].end = t + 1 == threads ? end : start + (end - start) * (t + 1) / threads;
    csvreg_error_clear(&w[t].err);
  }
  for (size_t t = 1; t < threads; t++)
    started[t] = pthread_create(&tid[t], NULL, range_run, &w[t]) == 0;
  range_run(&w[0]);
  for (size_t t = 1; t < threads; t++) {
    if (started[t])
      pthread_join(tid[t], NULL);
    else
      range_run(&w[t]); /* no thread: do it here */
  }
  csvreg_status st = CSVREG_OK;
  for (size_t t = 0; t < threads && !st; t++) {
    if (w[t].st) {
      st = w[t].st;
      *err = w[t].err;
      err->status = st;
    } else if ((st = csvreg_accum_merge(acc, w[t].acc, err)) == CSVREG_OK) {
      prov->chunks += w[t].chunks;
    }
  }
  if (!st) {
    prov->source = path;
    prov->has_range = 1;
    prov->range_start = start;
    prov->range_end = end;
    prov->aligned_start = w[0].range.start;
    prov->aligned_end = w[threads - 1].range.end;
    prov->header_bytes = w[0].range.header_end;
    prov->bytes = prov->aligned_end - prov->aligned_start;
    prov->file_size = size;
  }
  for (size_t t = 0; t < threads; t++)
    csvreg_accum_free(w[t].acc);
  free(w);
  free(tid);
  free(started);
  return st;
}

/* ---- streams ---- */

/* Reads the first non-empty line (ending in a line feed outside quotes)
 * one byte at a time, so nothing after it is consumed. */
static csvreg_status read_first_line(int fd, const char *source, char **out, size_t *len,
                                     csvreg_error *err) {
  size_t cap = 256, n = 0;
  char *b = malloc(cap);
  unsigned odd = 0;
  int blank = 1;
  if (!b)
    return err->status = CSVREG_E_NOMEM;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(b);
      snprintf(err->source, sizeof err->source, "%s", source);
      snprintf(err->message, sizeof err->message, "cannot read: %s", strerror(errno));
      return err->status = CSVREG_E_IO;
    }
    if (r == 0)
      break;
    if (n + 1 >= cap) {
      if (cap >= CSVREG_DEFAULT_MAX_RECORD) {
        free(b);
        snprintf(err->source, sizeof err->source, "%s", source);
        snprintf(err->message, sizeof err->message, "the first record is longer than %zu bytes",
                 (size_t)CSVREG_DEFAULT_MAX_RECORD);
        return err->status = CSVREG_E_LIMIT;
      }
      char *t = realloc(b, cap * 2);
      if (!t) {
        free(b);
        return err->status = CSVREG_E_NOMEM;
      }
      b = t;
      cap *= 2;
    }
    b[n++] = c;
    if (c == '"')
      odd ^= 1u;
    if (c == '\n' && !odd) {
      if (!blank)
        break;
      /* an empty line: the reader skips it too; go on to the next */
    } else if (c != '\r') {
      blank = 0;
    }
  }
  b[n] = '\0';
  *out = b;
  *len = n;
  return CSVREG_OK;
}

static int same_record(const csvreg_record *rec, const shard_names *nm) {
  if (rec->nfields != nm->n)
    return 0;
  for (size_t i = 0; i < nm->n; i++)
    if (rec->fields[i].len != strlen(nm->names[i]) ||
        memcmp(rec->fields[i].ptr, nm->names[i], rec->fields[i].len) != 0)
      return 0;
  return 1;
}

static csvreg_status spec_from_names(const shard_names *nm, const csvreg_spec_options *so,
                                     const char *source, csvreg_spec **spec, csvreg_error *err) {
  csvreg_status st = csvreg_spec_new(spec, (const char *const *)nm->names, nm->n, so, err);
  if (st && !err->source[0]) {
    snprintf(err->source, sizeof err->source, "%s", nm->given ? "--columns" : source);
    err->line = nm->given ? 0 : 1;
  }
  return st;
}

csvreg_status shard_fold_stream(const char *path, const csvreg_reader_options *ro,
                                const csvreg_spec_options *so, shard_names *nm,
                                csvreg_solver solver, size_t chunk_rows, size_t threads,
                                csvreg_spec **spec, csvreg_accum **acc, shard_prov *prov,
                                csvreg_error *err) {
  int stdin_ = !path || strcmp(path, "-") == 0;
  const char *source = stdin_ ? "<stdin>" : path;
  int fd = stdin_ ? 0 : open(path, O_RDONLY);
  char *line = NULL;
  size_t len = 0;
  csvreg_reader *first = NULL, *rest = NULL;
  csvreg_chunk *chunk = NULL;
  csvreg_status st = CSVREG_OK;
  uint64_t line_lfs = 0;
  *spec = NULL;
  *acc = NULL;
  prov->source = source;
  prov->file_size = (uint64_t)-1;
  if (fd < 0) {
    snprintf(err->source, sizeof err->source, "%s", path);
    snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
    return err->status = CSVREG_E_IO;
  }
  csvreg_reader_options data_ro = *ro;
  data_ro.header = 0;
  int data_first = 0; /* the first line is data */
  if (ro->header) {
    if ((st = read_first_line(fd, source, &line, &len, err)))
      goto done;
    for (size_t i = 0; i < len; i++)
      line_lfs += line[i] == '\n';
    if (!nm->given) {
      if (len == 0) {
        snprintf(err->source, sizeof err->source, "%s", source);
        snprintf(err->message, sizeof err->message, "empty input: no header");
        err->line = 1;
        st = err->status = CSVREG_E_CSV;
        goto done;
      }
      csvreg_reader_options hro = *ro;
      hro.header = 1;
      if ((st = csvreg_reader_open_mem(&first, line, len, source, &hro, err)) ||
          (st = names_copy(nm, csvreg_reader_column_names(first), csvreg_reader_ncolumns(first),
                           err)))
        goto done;
      csvreg_reader_free(first);
      first = NULL;
      prov->header_bytes = len;
    } else if (len > 0) {
      csvreg_record rec;
      if ((st = csvreg_reader_open_mem(&first, line, len, source, &data_ro, err)))
        goto done;
      st = csvreg_reader_next(first, &rec, err);
      if (csvreg_is_error(st))
        goto done;
      if (st == CSVREG_OK && same_record(&rec, nm)) {
        prov->header_bytes = len;
      } else {
        data_first = 1;
        prov->bytes += len;
      }
      csvreg_reader_free(first);
      first = NULL;
      st = CSVREG_OK;
    }
  } else if (threads > 1) {
    /* No header: the blocks need the width, from the first record. */
    if ((st = read_first_line(fd, source, &line, &len, err)))
      goto done;
    if (len > 0) {
      if ((st = csvreg_reader_open_mem(&first, line, len, source, &data_ro, err)))
        goto done;
      if (!nm->names && (st = names_copy(nm, csvreg_reader_column_names(first),
                                         csvreg_reader_ncolumns(first), err)))
        goto done;
      csvreg_reader_free(first);
      first = NULL;
      data_first = 1;
      prov->bytes += len;
    }
  }
  if (threads > 1 && nm->names) {
    if ((st = spec_from_names(nm, so, source, spec, err)) ||
        (st = csvreg_accum_new_for_spec(acc, *spec, solver, err)))
      goto done;
    /* A first line that is data starts the first block. */
    st = shard_fold_blocks(fd, source, data_first ? line : NULL, data_first ? len : 0,
                           data_first ? 0 : line_lfs, &data_ro, *spec, solver, chunk_rows, threads,
                           *acc, &prov->chunks, &prov->bytes, err);
    goto done;
  }
  if ((st = csvreg_reader_open_fd(&rest, fd, source, &data_ro, err)))
    goto done;
  if (!nm->names) { /* no header: V1, V2, ... from the first record */
    if ((st = names_copy(nm, csvreg_reader_column_names(rest), csvreg_reader_ncolumns(rest), err)))
      goto done;
  }
  if ((st = spec_from_names(nm, so, source, spec, err)))
    goto done;
  if ((st = csvreg_chunk_new(&chunk, *spec, chunk_rows, err)) ||
      (st = csvreg_accum_new_for_spec(acc, *spec, solver, err)))
    goto done;
  if (data_first) {
    if ((st = csvreg_reader_open_mem(&first, line, len, source, &data_ro, err)) ||
        (st = fold_reader(first, chunk, *acc, &prov->chunks, NULL, NULL, err)))
      goto done;
  }
  st = fold_reader(rest, chunk, *acc, &prov->chunks, NULL, NULL, err);
  if (st && err->line)
    err->line += line_lfs;
  prov->bytes += csvreg_reader_bytes(rest);
done:
  free(line);
  csvreg_reader_free(first);
  csvreg_reader_free(rest);
  csvreg_chunk_free(chunk);
  if (!stdin_ && fd >= 0)
    close(fd);
  if (st && !err->source[0])
    snprintf(err->source, sizeof err->source, "%s", source);
  return st;
}
