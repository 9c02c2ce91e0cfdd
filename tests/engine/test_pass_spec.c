/*
 * test_pass_spec.c - speculative piece starts of a threaded pass over a file
 * (pass.c, issue 14): a piece after the first starts at the first line end
 * after its cut as if no quote were open there, counting its records from
 * 0, and is checked (and read again when wrong or failed) when it is merged
 * in input order. Whatever the cut, the fit equals one thread's to rounding
 * with the same counts, and a failure reports the line, record and message
 * one thread reports. Files: plain; most bytes inside quoted fields with
 * line breaks (cuts fall inside them, the speculation is wrong and the
 * piece is read again); a bad cell late in the file; a byte range. With
 * piece_bytes (predict's small pieces) the same, and the pieces reach the
 * sink's create_piece with their place in input order and merge in it.
 *
 * A lone byte range (`--range I/N`, one thread) in the later half of the
 * file guesses its start the same way and keeps the reading only when the
 * guess is proven (no quote after the cut: then nothing before the range is
 * scanned) or equals the start skimmed from the file's start; else, or when
 * the reading fails, it is read again (test_lone_range,
 * test_lone_range_error).
 *
 * A stream with a lane sink (CSVREG_SINK_LANES, the accumulator's) folds
 * block i into worker i mod N's sink, in order, merged once per worker; the
 * threaded stdin fit gives the same bits run after run (test_stdin_lanes).
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, setenv */

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "csvreg.h"
#include "pass_internal.h"

/* y, x1, x2 and a text column; quoted: the text is a long quoted field with
 * line breaks, commas and doubled quotes on every other record (quoted 2:
 * its lines look like data records, so a start guessed inside it reads
 * them without failing); bad_at: the record (1-based data record) whose x2
 * is "abc" (0: none). */
static void write_file(const char *path, size_t n, int quoted, size_t bad_at) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("y,x1,note,x2\n", f);
  for (size_t i = 1; i <= n; i++) {
    double x1 = (double)((i * 37) % 101) / 7.0, x2 = (double)((i * 11) % 53) / 3.0;
    double y = 1.5 + 0.25 * x1 - 0.75 * x2 + (double)((i * 7919) % 97) / 50.0;
    fprintf(f, "%.6f,%.6f,", y, x1);
    if (quoted && i % 2) {
      fputc('"', f);
      for (size_t k = 0; k < 40; k++)
        if (quoted == 2)
          fprintf(f, "%zu.5,%zu.25,w,%zu\n", k, i % 13, (k * i) % 7);
        else
          fprintf(f, "line %zu, \"\"word\"\" %zu\n", k, i);
      fputc('"', f);
    } else {
      fprintf(f, "n%zu", i);
    }
    if (bad_at == i)
      fputs(",abc\n", f);
    else
      fprintf(f, ",%.6f\n", x2);
  }
  assert_int_equal(fclose(f), 0);
}

/* csvreg_pass_options.piece_bytes of run_pass (0: one piece per thread) */
static size_t piece_bytes;
/* run_pass reads the file as standard input (a stream: blocks of this many
 * bytes with threads), when not 0 */
static size_t stdin_block;
/* csvreg_reader_options.max_record_bytes of run_pass (0: the default) */
static size_t max_record;
/* run_pass reads the file as standard input without block_bytes, starting
 * at this offset of the descriptor, when stdin_at >= 0; with stdin_digest
 * asking for the digest of every byte */
static long stdin_at = -1;
static int stdin_digest;

typedef struct result {
  csvreg_status st;
  csvreg_error err;
  double coef[3];
  csvreg_counts counts;
  size_t redone;
  uint64_t scanned;
  int ranges;        /* csvreg__pass_reads_ranges */
  long offset_after; /* standard input's offset after the pass (stdin_at) */
  uint64_t bytes;    /* csvreg_pass_info's */
  int has_range;
} result;

static result run_pass(const char *path, size_t threads, int skip_bad, int has_range,
                       uint64_t range_start, uint64_t range_end) {
  result res;
  memset(&res, 0, sizeof res);
  csvreg_error_clear(&res.err);
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = path;
  if (stdin_block) {
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    po.path = "-";
    po.block_bytes = stdin_block;
  } else if (stdin_at >= 0) {
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 0), 0);
    close(fd);
    assert_int_equal(lseek(0, stdin_at, SEEK_SET), stdin_at);
    po.path = "-";
    po.digest = stdin_digest;
  }
  po.reader.max_record_bytes = max_record;
  po.threads = threads;
  po.chunk_rows = 7; /* many chunks per piece */
  po.piece_bytes = piece_bytes;
  po.has_range = has_range;
  po.range_start = range_start;
  po.range_end = range_end;
  csvreg_pass *p = NULL;
  assert_int_equal(csvreg_pass_open(&p, &po, &res.err), CSVREG_OK);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.target = "y";
  so.features = "x1,x2";
  so.skip_bad = skip_bad;
  csvreg_spec *spec = NULL;
  assert_int_equal(
      csvreg_spec_new(&spec, csvreg_pass_column_names(p), csvreg_pass_ncolumns(p), &so, &res.err),
      CSVREG_OK);
  csvreg_solver solver = CSVREG_SOLVER_QR;
  void *out = NULL;
  res.st = csvreg_pass_run(p, spec, csvreg_sink_accum(), &solver, &out, &res.err);
  res.redone = csvreg__pass_spec_redone(p);
  res.scanned = csvreg__pass_start_scanned(p);
  res.ranges = csvreg__pass_reads_ranges(p);
  res.offset_after = stdin_at >= 0 ? (long)lseek(0, 0, SEEK_CUR) : -1;
  res.bytes = csvreg_pass_get_info(p)->bytes;
  res.has_range = csvreg_pass_get_info(p)->has_range;
  if (res.st == CSVREG_OK && csvreg_accum_counts(out)->records == 0) {
    res.counts = *csvreg_accum_counts(out); /* nothing to solve */
    csvreg_accum_free(out);
  } else if (res.st == CSVREG_OK) {
    csvreg_fit *fit = NULL;
    assert_int_equal(csvreg_accum_solve(out, NULL, &fit, NULL), CSVREG_OK);
    const csvreg_fit_summary *s = csvreg_fit_get_summary(fit);
    assert_int_equal(s->nterms, 3);
    res.counts = s->counts;
    for (size_t j = 0; j < 3; j++)
      res.coef[j] = csvreg_fit_term(fit, j)->estimate;
    csvreg_fit_free(fit);
    csvreg_accum_free(out);
  }
  csvreg_spec_free(spec);
  csvreg_pass_free(p);
  return res;
}

static void assert_same_fit(const result *a, const result *b) {
  assert_int_equal(a->st, CSVREG_OK);
  assert_int_equal(b->st, CSVREG_OK);
  assert_memory_equal(&a->counts, &b->counts, sizeof a->counts);
  for (size_t j = 0; j < 3; j++)
    assert_true(fabs(a->coef[j] - b->coef[j]) <= 1e-12 * fabs(a->coef[j]));
}

/* b failed as a did: status, line, record, column and message. */
static void assert_same_error(const result *a, const result *b) {
  assert_int_equal(b->st, a->st);
  assert_int_equal(b->err.line, a->err.line);
  assert_int_equal(b->err.record, a->err.record);
  assert_int_equal(b->err.column, a->err.column);
  assert_string_equal(b->err.message, a->err.message);
}

static void temp_path(char *path) {
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
}

static uint64_t file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  uint64_t size = (uint64_t)ftell(f);
  fclose(f);
  return size;
}

static void test_plain(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  write_file(path, 40000, 0, 0);
  result one = run_pass(path, 1, 0, 0, 0, 0);
  assert_int_equal(one.counts.records, 40000);
  for (size_t n = 2; n <= 5; n++) {
    result r = run_pass(path, n, 0, 0, 0, 0);
    assert_same_fit(&one, &r);
    assert_int_equal(r.redone, 0); /* no quote: every speculation holds */
  }
  setenv("CSVREG_SPECULATE", "0", 1);
  result counted = run_pass(path, 3, 0, 0, 0, 0);
  unsetenv("CSVREG_SPECULATE");
  assert_same_fit(&one, &counted);
  unlink(path);
}

static void test_quoted_line_breaks(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  /* ~97% of the bytes are inside quoted fields: most cuts fall inside one */
  write_file(path, 3000, 1, 0);
  result one = run_pass(path, 1, 0, 0, 0, 0);
  assert_int_equal(one.counts.records, 3000);
  size_t redone = 0;
  for (size_t n = 2; n <= 8; n++) {
    result r = run_pass(path, n, 0, 0, 0, 0);
    assert_same_fit(&one, &r);
    redone += r.redone;
  }
  assert_true(redone > 0); /* the second reading ran */
  unlink(path);
}

static void test_error_numbers(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  for (int quoted = 0; quoted <= 1; quoted++) {
    size_t n = quoted ? 3000 : 40000;
    write_file(path, n, quoted, n * 3 / 4);
    result one = run_pass(path, 1, 0, 0, 0, 0);
    assert_int_not_equal(one.st, CSVREG_OK);
    assert_true(one.err.line > 0);
    for (size_t t = 2; t <= 4; t++) {
      result r = run_pass(path, t, 0, 0, 0, 0);
      assert_same_error(&one, &r);
    }
    /* skipped instead: the same rows dropped */
    result skip1 = run_pass(path, 1, 1, 0, 0, 0);
    assert_int_equal(skip1.counts.dropped_bad, 1);
    for (size_t t = 2; t <= 4; t++) {
      result r = run_pass(path, t, 1, 0, 0, 0);
      assert_same_fit(&skip1, &r);
    }
  }
  unlink(path);
}

static void test_range(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  for (int quoted = 0; quoted <= 1; quoted++) {
    write_file(path, quoted ? 3000 : 40000, quoted, 0);
    uint64_t size = file_size(path);
    uint64_t a = size / 3, b = size - size / 5;
    result one = run_pass(path, 1, 0, 1, a, b);
    assert_true(one.counts.records > 0);
    for (size_t n = 2; n <= 4; n++) {
      result r = run_pass(path, n, 0, 1, a, b);
      assert_same_fit(&one, &r);
    }
  }
  unlink(path);
}

/* A sink that checks the order of the pieces: each knows its place
 * (create_piece), the total expects them in order 0, 1, 2, ... */
typedef struct order_sink {
  uint64_t piece, next, records;
  int out_of_order;
} order_sink;

static csvreg_status order_create(void **out, const csvreg_spec *spec, const void *arg,
                                  csvreg_error *err) {
  (void)spec, (void)arg, (void)err;
  order_sink *s = calloc(1, sizeof *s);
  s->piece = UINT64_MAX; /* the total */
  *out = s;
  return s ? CSVREG_OK : CSVREG_E_NOMEM;
}

static csvreg_status order_create_piece(void **out, const csvreg_spec *spec, const void *arg,
                                        uint64_t piece, csvreg_error *err) {
  csvreg_status st = order_create(out, spec, arg, err);
  if (!st)
    ((order_sink *)*out)->piece = piece;
  return st;
}

static csvreg_status order_add(void *sp, const csvreg_chunk *c, csvreg_error *err) {
  (void)err;
  ((order_sink *)sp)->records += csvreg_chunk_counts(c)->records;
  return CSVREG_OK;
}

static csvreg_status order_merge(void *ip, const void *fp, csvreg_error *err) {
  (void)err;
  order_sink *into = ip;
  const order_sink *from = fp;
  into->out_of_order |= from->piece != into->next++;
  into->records += from->records;
  return CSVREG_OK;
}

/* the pieces a pass over `path` made (0: it failed) and their records */
static uint64_t order_pass(const char *path, size_t threads, unsigned flags, uint64_t *records) {
  csvreg_sink_type type = {"order", order_create, order_add,         order_merge,
                           free,    flags,        order_create_piece};
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = path;
  po.threads = threads;
  po.piece_bytes = piece_bytes;
  csvreg_pass *p = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_pass_open(&p, &po, &err), CSVREG_OK);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.target = "y";
  so.features = "x1,x2";
  csvreg_spec *spec = NULL;
  assert_int_equal(
      csvreg_spec_new(&spec, csvreg_pass_column_names(p), csvreg_pass_ncolumns(p), &so, &err),
      CSVREG_OK);
  void *out = NULL;
  assert_int_equal(csvreg_pass_run(p, spec, &type, NULL, &out, &err), CSVREG_OK);
  order_sink *total = out;
  assert_false(total->out_of_order);
  *records = total->records;
  uint64_t pieces = total->next;
  free(total);
  csvreg_spec_free(spec);
  csvreg_pass_free(p);
  return pieces;
}

/* piece_bytes: many pieces, in order, the same fit and errors. */
static void test_small_pieces(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  piece_bytes = (size_t)64 << 10;
  for (int quoted = 0; quoted <= 1; quoted++) {
    size_t n = quoted ? 3000 : 40000;
    write_file(path, n, quoted, 0);
    uint64_t size = file_size(path);
    uint64_t records = 0;
    /* a sink that may start speculatively gets pieces of about 64 KiB */
    for (size_t t = 2; t <= 3; t++) {
      uint64_t pieces = order_pass(path, t, CSVREG_SINK_SPECULATE, &records);
      assert_int_equal(pieces, (size + piece_bytes - 1) / piece_bytes);
      assert_int_equal(records, n);
    }
    /* one that counts every start from the file's start: one per thread */
    assert_int_equal(order_pass(path, 3, 0, &records), 3);
    assert_int_equal(records, n);
    piece_bytes = 0;
    result one = run_pass(path, 1, 0, 0, 0, 0);
    piece_bytes = (size_t)64 << 10;
    for (size_t t = 2; t <= 4; t++) {
      result r = run_pass(path, t, 0, 0, 0, 0);
      assert_same_fit(&one, &r);
      if (quoted) /* cuts inside quoted fields: pieces read again */
        assert_true(r.redone > 0);
    }
    /* a bad cell late in the file: one thread's error */
    write_file(path, n, quoted, n * 3 / 4);
    piece_bytes = 0;
    one = run_pass(path, 1, 0, 0, 0, 0);
    piece_bytes = (size_t)64 << 10;
    assert_int_not_equal(one.st, CSVREG_OK);
    for (size_t t = 2; t <= 3; t++) {
      result r = run_pass(path, t, 0, 0, 0, 0);
      assert_same_error(&one, &r);
    }
  }
  piece_bytes = 0;
  unlink(path);
}

/* A lone range [a, b): the same fit and counts as the range read from a
 * counted start (CSVREG_SPECULATE=0), whatever the cut; the guess is kept
 * without a second reading on a file without quotes. */
static void test_lone_range(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  for (int quoted = 0; quoted <= 2; quoted++) {
    write_file(path, quoted ? 1500 : 40000, quoted, 0);
    uint64_t size = file_size(path);
    size_t redone = 0;
    for (int k = 1; k <= 15; k++) {
      /* starts over the whole file (the guess is tried only where fewer
       * bytes follow the range than precede it), ends at and before EOF */
      uint64_t a = size * (uint64_t)k / 16 + (uint64_t)k * 7, b = k % 3 ? size : size - size / 40;
      if (a >= b)
        continue;
      result spec = run_pass(path, 1, 0, 1, a, b);
      setenv("CSVREG_SPECULATE", "0", 1);
      result counted = run_pass(path, 1, 0, 1, a, b);
      unsetenv("CSVREG_SPECULATE");
      assert_same_fit(&counted, &spec);
      assert_true(counted.counts.records > 0);
      if (!quoted) {
        assert_int_equal(spec.redone, 0);
        /* the guess is proven (no quote after the cut): nothing before the
         * range is scanned, where it is tried */
        if (size - b < a)
          assert_int_equal(spec.scanned, 0);
        else
          assert_true(spec.scanned > 0);
      }
      redone += spec.redone;
    }
    if (quoted)
      assert_true(redone > 0); /* cuts inside quotes: the second reading ran */
  }
  unlink(path);
}

/* A lone range whose reading fails (a bad cell in it) is read again from a
 * counted start: the error names the line, record and column one pass over
 * the whole file names. */
static void test_lone_range_error(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  for (int quoted = 0; quoted <= 1; quoted++) {
    size_t n = quoted ? 3000 : 40000;
    write_file(path, n, quoted, n * 3 / 4);
    uint64_t size = file_size(path);
    result one = run_pass(path, 1, 0, 0, 0, 0);
    assert_int_not_equal(one.st, CSVREG_OK);
    assert_true(one.err.line > n * 3 / 4); /* past the data lines before it */
    /* a guessed start (fewer bytes after the range than before it), and a
     * start skimmed from the file's start */
    uint64_t from[] = {size / 2 + 11, size / 8}, to[] = {size, size - size / 8};
    for (size_t i = 0; i < 2; i++) {
      result r = run_pass(path, 1, 0, 1, from[i], to[i]);
      assert_same_error(&one, &r);
      assert_int_equal(r.redone, 1);
    }
  }
  unlink(path);
}

/* A lone range inside one long quoted field whose lines look like data
 * records: the guessed start reads them without failing, a quote follows
 * the range, and the start skimmed from the file's start differs, so the
 * range is read again and holds no record, as one pass says. */
static void test_lone_range_guess_wrong(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("y,x1,note,x2\n", f);
  for (int i = 0; i < 3000; i++)
    fprintf(f, "%d.5,%d.25,n,%d\n", i % 17, i % 5, i % 3);
  long q0 = ftell(f);
  fputs("1.5,2.5,\"", f);
  for (int k = 0; k < 3000; k++)
    fprintf(f, "%d.5,%d.25,w,%d\n", k % 11, k % 7, k % 5);
  long q1 = ftell(f);
  fputs("\",3\n", f);
  for (int i = 0; i < 200; i++)
    fprintf(f, "%d.5,%d.25,n,%d\n", i % 13, i % 3, i % 7);
  assert_int_equal(fclose(f), 0);
  uint64_t a = (uint64_t)(q0 + (q1 - q0) * 2 / 5), b = (uint64_t)(q0 + (q1 - q0) * 4 / 5);
  assert_true(file_size(path) - b < a); /* the guess is tried */
  setenv("CSVREG_SPECULATE", "0", 1);
  result counted = run_pass(path, 1, 0, 1, a, b);
  unsetenv("CSVREG_SPECULATE");
  result spec = run_pass(path, 1, 0, 1, a, b);
  assert_int_equal(counted.st, CSVREG_OK);
  assert_int_equal(spec.st, CSVREG_OK);
  assert_int_equal(counted.counts.records, 0);
  assert_memory_equal(&spec.counts, &counted.counts, sizeof spec.counts);
  assert_int_equal(spec.redone, 1);
  /* the whole file: both ways, the quoted field one record */
  result one = run_pass(path, 1, 0, 0, 0, 0);
  assert_int_equal(one.counts.records, 3201);
  unlink(path);
}

/* Standard input with threads (a stream cut in blocks by the reading
 * thread): the blocks' records are numbered from 0 and the reading thread
 * only skims for the quote parity; each worker counts its block's lines and
 * records, added up when merged, and a block that failed is read again with
 * the true numbers then. The fit equals one thread's, a failure names one
 * thread's line, record and column, with every block size, counted or not
 * (CSVREG_SPECULATE=0). */
static void test_stdin_blocks(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  size_t sizes[] = {4096, 50000, (size_t)1 << 20};
  for (int quoted = 0; quoted <= 2; quoted++) {
    size_t n = quoted ? 1500 : 20000;
    write_file(path, n, quoted, 0);
    result one = run_pass(path, 1, 0, 0, 0, 0);
    assert_int_equal(one.counts.records, n);
    for (size_t k = 0; k < 3; k++) {
      stdin_block = sizes[k];
      for (size_t t = 2; t <= 3; t++) {
        result r = run_pass(path, t, 0, 0, 0, 0);
        assert_same_fit(&one, &r);
        assert_int_equal(r.redone, 0); /* blocks end at true boundaries */
      }
      setenv("CSVREG_SPECULATE", "0", 1);
      result counted = run_pass(path, 2, 0, 0, 0, 0);
      unsetenv("CSVREG_SPECULATE");
      assert_same_fit(&one, &counted);
      stdin_block = 0;
    }
    /* a bad cell late in the input: the block holding it is read again */
    write_file(path, n, quoted, n * 3 / 4);
    one = run_pass(path, 1, 0, 0, 0, 0);
    assert_int_not_equal(one.st, CSVREG_OK);
    assert_true(one.err.line > n * 3 / 4);
    result skip1 = run_pass(path, 1, 1, 0, 0, 0);
    for (size_t k = 0; k < 3; k++) {
      stdin_block = sizes[k];
      for (size_t t = 2; t <= 3; t++) {
        result r = run_pass(path, t, 0, 0, 0, 0);
        assert_same_error(&one, &r);
        assert_int_equal(r.redone, 1);
      }
      setenv("CSVREG_SPECULATE", "0", 1);
      result counted = run_pass(path, 2, 0, 0, 0, 0);
      unsetenv("CSVREG_SPECULATE");
      assert_same_error(&one, &counted);
      assert_int_equal(counted.redone, 0);
      /* skipped: the same rows dropped (--skip-bad reports count every block) */
      result skip = run_pass(path, 2, 1, 0, 0, 0);
      assert_same_fit(&skip1, &skip);
      stdin_block = 0;
    }
  }
  unlink(path);
}

/* Stream blocks take their lines and records from their own reader (not a
 * second count by the scanner): with every kind of line end (LF, CRLF, lone
 * CR), blank lines, and quoted fields holding CR, LF and CRLF across block
 * cuts, a bad cell late in the input is named at one thread's line, record
 * and column, and --skip-bad drops the same rows. */
static void test_stdin_line_ends(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  const size_t n = 6000, bad_at = n * 3 / 4;
  static const char *const ends[] = {"\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\r\r"};
  static const char *const notes[] = {"plain", "\"a\nb\"", "\"c\r\nd\"", "\"e\rf\"",
                                      "\"g,\"\"h\"\"\""};
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("y,x1,note,x2\n", f);
  for (size_t i = 1; i <= n; i++) {
    double x1 = (double)((i * 37) % 101) / 7.0, x2 = (double)((i * 11) % 53) / 3.0;
    double y = 1.5 + 0.25 * x1 - 0.75 * x2 + (double)((i * 7919) % 97) / 50.0;
    fprintf(f, "%.6f,%.6f,%s,", y, x1, notes[i % 5]);
    if (i == bad_at)
      fputs("abc", f);
    else
      fprintf(f, "%.6f", x2);
    fputs(ends[(i * 7) % 6], f);
  }
  assert_int_equal(fclose(f), 0);
  result one = run_pass(path, 1, 0, 0, 0, 0);
  assert_int_not_equal(one.st, CSVREG_OK);
  assert_true(one.err.line > bad_at);
  result skip1 = run_pass(path, 1, 1, 0, 0, 0);
  assert_int_equal(skip1.counts.dropped_bad, 1);
  size_t sizes[] = {4096, 9999, 50000};
  for (size_t k = 0; k < 3; k++) {
    stdin_block = sizes[k];
    for (size_t t = 2; t <= 3; t++) {
      result r = run_pass(path, t, 0, 0, 0, 0);
      assert_same_error(&one, &r);
      result skip = run_pass(path, t, 1, 0, 0, 0);
      assert_same_fit(&skip1, &skip);
    }
  }
  stdin_block = 0;
  unlink(path);
}

/* A record longer than the limit late in a stream read with threads: the
 * message names the line it starts on, as one thread's does, although the
 * reading thread no longer counts lines (the blocks before it are merged
 * first). */
static void test_stdin_long_record(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("y,x1,note,x2\n", f);
  for (int i = 0; i < 5000; i++)
    fprintf(f, "%d.5,%d.25,\"a\nb\",%d\n", i % 17, i % 5, i % 3);
  fputs("1.5,2.5,\"", f);
  for (int k = 0; k < 3000; k++)
    fputs("long text, ", f);
  fputs("\",3\n1,2,n,3\n", f);
  assert_int_equal(fclose(f), 0);
  max_record = 8192;
  result one = run_pass(path, 1, 0, 0, 0, 0);
  assert_int_equal(one.st, CSVREG_E_LIMIT);
  assert_int_equal(one.err.line, 10002); /* the header, then 5000 records of 2 lines */
  size_t sizes[] = {4096, 50000};
  for (size_t k = 0; k < 2; k++) {
    stdin_block = sizes[k];
    for (int counted = 0; counted <= 1; counted++) {
      if (counted)
        setenv("CSVREG_SPECULATE", "0", 1);
      result r = run_pass(path, 2, 0, 0, 0, 0);
      unsetenv("CSVREG_SPECULATE");
      assert_int_equal(r.st, CSVREG_E_LIMIT);
      assert_int_equal(r.err.line, one.err.line);
      assert_string_equal(r.err.message, one.err.message);
    }
  }
  stdin_block = 0;
  max_record = 0;
  unlink(path);
}

/* A lane sink (CSVREG_SINK_LANES) on a stream: one sink per worker, each
 * given its blocks in input order, merged once at the end in lane order.
 * lane_sink records the first record of each chunk it got (the chunks'
 * record numbers are the whole input's: not speculated here) and the total
 * checks that each lane's blocks came in order and that the lanes came in
 * order. */
typedef struct lane_sink {
  uint64_t merges, records, last; /* last: the record after the last one seen */
  int out_of_order;
} lane_sink;

static csvreg_status lane_create(void **out, const csvreg_spec *spec, const void *arg,
                                 csvreg_error *err) {
  (void)spec, (void)arg, (void)err;
  *out = calloc(1, sizeof(lane_sink));
  return *out ? CSVREG_OK : CSVREG_E_NOMEM;
}

static csvreg_status lane_add(void *sp, const csvreg_chunk *c, csvreg_error *err) {
  (void)err;
  lane_sink *s = sp;
  const uint64_t n = csvreg_chunk_counts(c)->records;
  if (n) {
    const uint64_t first = csvreg_chunk_record_numbers(c)[0];
    s->out_of_order |= first < s->last;
    s->last = first + n;
  }
  s->records += n;
  return CSVREG_OK;
}

static csvreg_status lane_merge(void *ip, const void *fp, csvreg_error *err) {
  (void)err;
  lane_sink *into = ip;
  const lane_sink *from = fp;
  into->merges++;
  into->records += from->records;
  into->out_of_order |= from->out_of_order;
  return CSVREG_OK;
}

static void test_stdin_lanes(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  write_file(path, 20000, 0, 0);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(dup2(fd, 0), 0);
  close(fd);
  csvreg_sink_type type = {"lanes", lane_create,       lane_add, lane_merge,
                           free,    CSVREG_SINK_LANES, NULL};
  csvreg_pass_options po;
  csvreg_pass_options_init(&po);
  po.path = "-";
  po.threads = 3;
  po.block_bytes = 4096; /* ~170 blocks */
  po.chunk_rows = 7;
  csvreg_chunk_options co;
  csvreg_chunk_options_init(&co);
  co.rows = 7;
  co.keep_rows = 1; /* record numbers */
  po.chunk = &co;
  csvreg_pass *p = NULL;
  csvreg_error err;
  assert_int_equal(csvreg_pass_open(&p, &po, &err), CSVREG_OK);
  csvreg_spec_options so;
  csvreg_spec_options_init(&so);
  so.target = "y";
  so.features = "x1,x2";
  csvreg_spec *spec = NULL;
  assert_int_equal(
      csvreg_spec_new(&spec, csvreg_pass_column_names(p), csvreg_pass_ncolumns(p), &so, &err),
      CSVREG_OK);
  void *out = NULL;
  assert_int_equal(csvreg_pass_run(p, spec, &type, NULL, &out, &err), CSVREG_OK);
  lane_sink *total = out;
  assert_int_equal(total->merges, 3); /* one per worker, not one per block */
  assert_int_equal(total->records, 20000);
  assert_false(total->out_of_order);
  assert_int_equal(csvreg_pass_get_info(p)->records, 20000);
  free(total);
  csvreg_spec_free(spec);
  csvreg_pass_free(p);
  /* the fit: one thread's to rounding, and the same bits run after run
   * (blocks go to lanes by their place, not by which thread is free) */
  result one = run_pass(path, 1, 0, 0, 0, 0);
  stdin_block = 4096;
  result first = run_pass(path, 3, 0, 0, 0, 0);
  assert_same_fit(&one, &first);
  for (int k = 0; k < 6; k++) {
    result r = run_pass(path, 2 + k % 2, 0, 0, 0, 0);
    if (k % 2)
      assert_memory_equal(r.coef, first.coef, sizeof r.coef);
    assert_same_fit(&one, &r);
  }
  stdin_block = 0;
  unlink(path);
}

/* A regular file on standard input with threads (`- < FILE`) is read by
 * byte ranges like a named file (stdin_ranges in pass.c): the fit and the
 * counts equal one thread's, also with quoted line breaks (speculative
 * starts read again), the info says a stream's (no byte range) and the
 * descriptor is left at the file's end, as reading it leaves it. A
 * descriptor not at the file's start, a digest of every byte, or given
 * stream blocks (the tests above) read a stream. */
static void test_stdin_file(void **state) {
  (void)state;
  char path[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path);
  for (int quoted = 0; quoted <= 1; quoted++) {
    size_t n = quoted ? 1500 : 20000;
    write_file(path, n, quoted, 0);
    const long size = (long)file_size(path);
    result one = run_pass(path, 1, 0, 0, 0, 0);
    stdin_at = 0;
    for (size_t t = 2; t <= 3; t++) {
      result r = run_pass(path, t, 0, 0, 0, 0);
      assert_true(r.ranges);
      assert_same_fit(&one, &r);
      assert_int_equal(r.offset_after, size);
      assert_int_equal(r.bytes, one.bytes);
      assert_false(r.has_range);
      if (quoted)
        assert_true(r.redone > 0);
    }
    stdin_digest = 1; /* a state's digest: the stream's path */
    result d = run_pass(path, 2, 0, 0, 0, 0);
    stdin_digest = 0;
    assert_false(d.ranges);
    assert_same_fit(&one, &d);
    stdin_at = -1;
  }
  /* a descriptor past a first line: the input is the rest, as a stream */
  write_file(path, 3000, 0, 0);
  result one = run_pass(path, 1, 0, 0, 0, 0);
  char path2[] = "/tmp/test_pass_spec_XXXXXX";
  temp_path(path2);
  FILE *in = fopen(path, "rb"), *out = fopen(path2, "wb");
  assert_non_null(in);
  assert_non_null(out);
  fputs("skipped,by,the,shell\n", out);
  int c;
  while ((c = fgetc(in)) != EOF)
    fputc(c, out);
  fclose(in);
  assert_int_equal(fclose(out), 0);
  stdin_at = (long)strlen("skipped,by,the,shell\n");
  result r = run_pass(path2, 2, 0, 0, 0, 0);
  stdin_at = -1;
  assert_false(r.ranges);
  assert_same_fit(&one, &r);
  unlink(path2);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stdin_blocks),
      cmocka_unit_test(test_stdin_long_record),
      cmocka_unit_test(test_stdin_lanes),
      cmocka_unit_test(test_stdin_line_ends),
      cmocka_unit_test(test_stdin_file),
      cmocka_unit_test(test_plain),
      cmocka_unit_test(test_quoted_line_breaks),
      cmocka_unit_test(test_error_numbers),
      cmocka_unit_test(test_range),
      cmocka_unit_test(test_small_pieces),
      cmocka_unit_test(test_lone_range),
      cmocka_unit_test(test_lone_range_error),
      cmocka_unit_test(test_lone_range_guess_wrong),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
