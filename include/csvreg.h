/*
 * csvreg.h - the public C API of csvreg: streaming least squares from CSV.
 *
 * Data flows one way:
 *
 *   reader --records--> chunk --design block--> accumulator --solve--> fit
 *
 *   - csvreg_reader   yields CSV records one at a time (generator style) from a
 *                     file, stdin or memory, in bounded memory.
 *   - csvreg_spec     says what to fit: which *input columns* are converted and
 *                     the *model terms* built from them (today one term per
 *                     feature column; later interactions, powers, factors).
 *   - csvreg_chunk    a fixed block of rows x input columns of doubles; filling
 *                     it parses only the used cells, drops missing rows and
 *                     builds the design block (terms, target, weights).
 *   - csvreg_accum    a mergeable accumulator of the least-squares problem
 *                     (QR factor or centred co-moments). Two accumulators
 *                     over disjoint rows merge into the accumulator of the union.
 *   - csvreg_fit      the solved model and its statistics (as R's summary.lm).
 *
 * Conventions:
 *   - Every fallible function returns a csvreg_status and, when `err` is not
 *     NULL, fills it with the source, line, column and a message. The library
 *     never prints and never exits.
 *   - Objects come in _new/_free pairs; _free(NULL) is a no-op. The caller owns
 *     what a _new returns. Borrowed pointers say how long they stay valid.
 *   - Row counts are 64-bit.
 *
 * Example (error handling shortened):
 *
 *   csvreg_error err;
 *   csvreg_reader *r; csvreg_spec *s; csvreg_chunk *c; csvreg_accum *a;
 *   csvreg_fit *fit;
 *   csvreg_reader_options ro; csvreg_reader_options_init(&ro);
 *   csvreg_spec_options so;   csvreg_spec_options_init(&so);
 *   so.target = "Employed";
 *   csvreg_reader_open(&r, "data/longley.csv", &ro, &err);
 *   csvreg_spec_new(&s, csvreg_reader_column_names(r),
 *                   csvreg_reader_ncolumns(r), &so, &err);
 *   csvreg_chunk_new(&c, s, 0, &err);
 *   csvreg_accum_new_for_spec(&a, s, CSVREG_SOLVER_QR, &err);
 *   csvreg_status st;
 *   do {
 *     st = csvreg_chunk_fill(c, r, &err);
 *     if (csvreg_is_error(st)) break;
 *     csvreg_accum_add_chunk(a, c, &err);
 *   } while (st != CSVREG_END);
 *   csvreg_accum_solve(a, NULL, &fit, &err);
 *   printf("%.17g\n", csvreg_fit_term(fit, 1)->estimate);
 *   csvreg_fit_free(fit); csvreg_accum_free(a); csvreg_chunk_free(c);
 *   csvreg_spec_free(s); csvreg_reader_free(r);
 */
#ifndef CSVREG_H
#define CSVREG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* FILE: csvreg_accum_write, csvreg_model_write */

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions of the API: the library is built with hidden
 * visibility, so these are the only symbols libcsvreg.so exports. */
#if defined(_WIN32) && defined(CSVREG_SHARED_BUILD)
#define CSVREG_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CSVREG_API __attribute__((visibility("default")))
#else
#define CSVREG_API
#endif

#define CSVREG_VERSION_MAJOR 0
#define CSVREG_VERSION_MINOR 1
#define CSVREG_VERSION_PATCH 0
#define CSVREG_VERSION "0.1.0"

/* The library's version string (equal to CSVREG_VERSION of the build). */
CSVREG_API const char *csvreg_version(void);

/* ---- build information (csvreg --version; issue 16) ---- */
/* What this build is made of and which code paths this machine takes, as
 * "key: value" lines each ending in '\n': build (type, compiler), blas
 * (OpenBLAS's configuration and where it was loaded from), simd (the record
 * scanner's and number parser's path: AVX2, SSE2 or scalar), decompress (the
 * formats compiled in and their libraries), plot (cairo, when linked).
 * Writes at most `size` bytes, always terminated when size > 0 (buf may be
 * NULL when size is 0), and returns the length of the whole text, as
 * snprintf: call again with a larger buffer when it is >= size. */
CSVREG_API size_t csvreg_build_info(char *buf, size_t size);
/* ---- end build information ---- */

/* "Did you mean": the index of the name in names[0..n) nearest to the `len`
 * bytes at `typed` (a name it abbreviates, or one within a few edits), or n
 * when none is near. The library's unknown-column messages use it. */
CSVREG_API size_t csvreg_closest_name(const char *typed, size_t len, const char *const *names,
                                      size_t n);

/* BLAS threads: the blocks csvreg folds are small (chunk rows x terms) and
 * OpenBLAS's spare threads spin (measured on 2M x 10 rows on 2 vCPUs: 2.5 s
 * with the default threads against 1.0 s with one), so when the process
 * starts the library pins OpenBLAS to one thread unless OPENBLAS_NUM_THREADS
 * is set, which then decides (src/util/status.c says how). */

/* ------------------------------------------------------------------------ */
/* Status and errors                                                        */
/* ------------------------------------------------------------------------ */

typedef enum csvreg_status {
  CSVREG_OK = 0,
  CSVREG_END = 1,       /* not an error: the input has no more records */
  CSVREG_E_USAGE = 2,   /* an invalid argument or option */
  CSVREG_E_NOMEM = 3,   /* out of memory */
  CSVREG_E_IO = 4,      /* open, read or write failed */
  CSVREG_E_CSV = 5,     /* malformed CSV: ragged row, unterminated quote, ... */
  CSVREG_E_COLUMN = 6,  /* a column that does not exist, is ambiguous, ... */
  CSVREG_E_VALUE = 7,   /* a cell that is not a number, a negative weight */
  CSVREG_E_NUMERIC = 8, /* nothing to fit, every term aliased, non-finite */
  CSVREG_E_LIMIT = 9,   /* a documented resource bound was exceeded */
  CSVREG_E_FORMAT = 10, /* a model or state file that cannot be used */
  CSVREG_E_INTERNAL = 11
} csvreg_status;

/* Non-zero when `s` is an error (neither CSVREG_OK nor CSVREG_END). */
CSVREG_API int csvreg_is_error(csvreg_status s);

/* A short constant description of `s` ("malformed CSV", ...). */
CSVREG_API const char *csvreg_status_str(csvreg_status s);

/* Where and why an operation failed. Fields that do not apply are empty or 0. */
typedef struct csvreg_error {
  csvreg_status status;
  char source[256]; /* input name as given ("-" shows as "<stdin>") */
  uint64_t line;    /* physical line (1-based) where the record starts */
  uint64_t record;  /* record number (1-based, header included) */
  size_t column;    /* input column (1-based) */
  char column_name[128];
  char message[512]; /* what was expected and what was found */
} csvreg_error;

/* Resets `e` to "no error". */
CSVREG_API void csvreg_error_clear(csvreg_error *e);

/* Writes "source:line:column: message" (parts that are unknown are left out,
 * the column shown as `N (name)` when its name is known) into `buf`; returns
 * the length snprintf would have written. */
CSVREG_API size_t csvreg_error_format(const csvreg_error *e, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Number parsing                                                           */
/* ------------------------------------------------------------------------ */

/* Parses `len` bytes as a decimal number, correctly rounded (bit-identical to
 * strtod in the C locale), independent of the process locale.
 * Accepted: optional leading/trailing spaces and tabs, optional sign (+ or -),
 * digits with an optional '.', optional exponent (e/E, sign, digits):
 * "5", "+5", "-.5", "5.", "1e-3". Rejected: empty text, "inf", "nan", hex
 * ("0x10"), thousands separators ("1,5", "1 000"), trailing garbage.
 * Overflow ("1e400") is rejected; underflow ("1e-400") rounds to a subnormal
 * or zero, as strtod does, and is accepted.
 * Returns CSVREG_OK, or CSVREG_E_VALUE with `*out` untouched. */
CSVREG_API csvreg_status csvreg_parse_double(const char *s, size_t len, double *out);

/* Buffer size for csvreg_format_double. */
#define CSVREG_FORMAT_DOUBLE_MAX 32

/* Writes the shortest decimal text that csvreg_parse_double (and strtod)
 * reads back to the same bits ("0.1", "3.034835355285962", "-0", "1e-7",
 * "1e+21"; fixed notation from 1e-4 to below 1e17, as %g), NUL-terminated,
 * into `buf` (CSVREG_FORMAT_DOUBLE_MAX bytes), independent of the locale;
 * returns its length. Non-finite values are written as "NaN", "Infinity",
 * "-Infinity". */
CSVREG_API size_t csvreg_format_double(double v, char *buf);

/* Missing-value tokens: a cell is missing when, trimmed of spaces and tabs,
 * it equals one of them (the empty token: the empty cell). Used by the chunk
 * (csvreg_spec_options.na) and by programs that read cells themselves, so
 * that both decide alike. */
typedef struct csvreg_na csvreg_na;

/* Parses a comma-separated token list, each token trimmed; NULL means "NA"
 * and the empty cell. Fails only with CSVREG_E_NOMEM (or CSVREG_E_USAGE
 * when out is NULL). */
CSVREG_API csvreg_status csvreg_na_new(csvreg_na **out, const char *list, csvreg_error *err);
CSVREG_API void csvreg_na_free(csvreg_na *na);

/* 1 when the cell [s, s + len) is missing, else 0. */
CSVREG_API int csvreg_na_match(const csvreg_na *na, const char *s, size_t len);

/* 1 when some token reads as a number (such as -999): then a cell must be
 * tested for NA before it is parsed, else it would count as that number. */
CSVREG_API int csvreg_na_numeric(const csvreg_na *na);

/* ------------------------------------------------------------------------ */
/* Reader: a generator of CSV records                                       */
/* ------------------------------------------------------------------------ */

/* Longest record accepted by default (bytes); longer is CSVREG_E_LIMIT. */
#define CSVREG_DEFAULT_MAX_RECORD ((size_t)64 << 20)
/* Widest record accepted (fields); wider is CSVREG_E_LIMIT. */
#define CSVREG_MAX_FIELDS ((size_t)1 << 20)

typedef struct csvreg_reader_options {
  char delimiter;          /* field delimiter; default ',' */
  int header;              /* 1 (default): the first record names the columns */
  int force_libcsv;        /* 1: every record through libcsv (tests); default 0 */
  size_t max_record_bytes; /* 0: CSVREG_DEFAULT_MAX_RECORD */
  size_t buffer_bytes;     /* read size; 0: 1 MiB */
  /* Compressed input (issue 14): CSVREG_DECOMPRESS_AUTO (default) reads a
   * file or stream opened by path or descriptor (csvreg_reader_open,
   * csvreg_reader_open_fd, csvreg_pass_open) as gzip, zstd, xz or bzip2
   * when its first bytes say so, and refuses one that is not text (an
   * archive of another kind, binary data: CSVREG_E_CSV "not a CSV text file
   * (looks like ...)"); a corrupt or truncated archive is CSVREG_E_IO with
   * the compressed byte offset. CSVREG_DECOMPRESS_NONE: the bytes as they
   * are. Memory is never sniffed. */
  int decompress;
} csvreg_reader_options;

#define CSVREG_DECOMPRESS_AUTO 0
#define CSVREG_DECOMPRESS_NONE 1

CSVREG_API void csvreg_reader_options_init(csvreg_reader_options *o);

typedef struct csvreg_field {
  const char *ptr; /* not NUL-terminated */
  size_t len;
} csvreg_field;

typedef struct csvreg_record {
  size_t nfields;
  const csvreg_field *fields; /* borrowed: valid until the next call on the reader */
  uint64_t line;              /* physical line (1-based) where the record starts */
  uint64_t number;            /* record number (1-based; the header is record 1) */
} csvreg_record;

typedef struct csvreg_reader csvreg_reader;

/* Opens `path` ("-" or NULL: standard input) and reads the header (or, with
 * header = 0, looks at the first record to learn the width). A UTF-8 BOM is
 * skipped. Records follow RFC 4180 (libcsv): quoted fields may hold
 * delimiters, CR, LF and doubled quotes; lines end in LF, CRLF or CR; empty
 * lines are skipped; unquoted fields keep their spaces. */
CSVREG_API csvreg_status csvreg_reader_open(csvreg_reader **out, const char *path,
                                            const csvreg_reader_options *o, csvreg_error *err);

/* As csvreg_reader_open over an open descriptor, which is not closed;
 * `name` is used in messages. */
CSVREG_API csvreg_status csvreg_reader_open_fd(csvreg_reader **out, int fd, const char *name,
                                               const csvreg_reader_options *o, csvreg_error *err);

/* As csvreg_reader_open over `len` bytes of memory, which must stay valid
 * until the reader is freed (tests and fuzzing). */
CSVREG_API csvreg_status csvreg_reader_open_mem(csvreg_reader **out, const void *data, size_t len,
                                                const char *name, const csvreg_reader_options *o,
                                                csvreg_error *err);

CSVREG_API void csvreg_reader_free(csvreg_reader *r);

/* Number of columns: the header's width, or the first record's without one. */
CSVREG_API size_t csvreg_reader_ncolumns(const csvreg_reader *r);

/* Column names, NUL-terminated; without a header "V1", "V2", ... Borrowed:
 * valid until the reader is freed. */
CSVREG_API const char *const *csvreg_reader_column_names(const csvreg_reader *r);

/* The input's name as used in messages ("<stdin>" for standard input). */
CSVREG_API const char *csvreg_reader_source(const csvreg_reader *r);

/* Yields the next data record: CSVREG_OK with *rec filled, CSVREG_END at the
 * end of the input, or an error (unterminated quote, record too long, read
 * failure). Width is not checked here (the chunk checks it). */
CSVREG_API csvreg_status csvreg_reader_next(csvreg_reader *r, csvreg_record *rec,
                                            csvreg_error *err);

/* Parses cells k..n-1 of `rec`, the record the reader returned last: cell j
 * is rec->fields[cols[j]] (cols[j] < rec->nfields) and goes to
 * out[j * stride]. Stops at the first cell that is not a short plain number
 * ([-]digits[.digits], at most 8 bytes after the sign) and returns its index,
 * or n when all were; that cell may still be a number for csvreg_parse_double ("1e3",
 * "+5", " 7", more digits), a missing value or bad, which is the caller's to
 * decide before going on from the next one. The values are bit for bit
 * csvreg_parse_double's; this is its fast path for rows of cells, four cells
 * at a time on CPUs with AVX2 (what the chunk uses). */
CSVREG_API size_t csvreg_record_parse_cells(const csvreg_reader *r, const csvreg_record *rec,
                                            const size_t *cols, size_t k, size_t n, double *out,
                                            size_t stride);

/* Bytes consumed from the input so far. */
CSVREG_API uint64_t csvreg_reader_bytes(const csvreg_reader *r);

/* Size of the input in bytes when known (a regular file), else -1. */
CSVREG_API int64_t csvreg_reader_size(const csvreg_reader *r);

/* ------------------------------------------------------------------------ */
/* Spec: input columns and model terms                                      */
/* ------------------------------------------------------------------------ */

typedef struct csvreg_spec_options {
  const char *target;                /* name or 1-based position; required */
  const char *features;              /* comma-separated names or positions; NULL: every
                                        column but the target and the weights */
  const char *weights;               /* name or position; NULL: unweighted */
  int intercept;                     /* 1 (default): fit an intercept */
  const char *na;                    /* comma-separated NA tokens; NULL: "NA" and the empty
                                        cell. A cell equal to one (after trimming spaces) is
                                        missing and drops its row. */
  int skip_bad;                      /* 1: drop and count rows with a non-number or the wrong
                                        width instead of failing; default 0 */
  const unsigned char *text_columns; /* [ncolumns] 1 where the column holds
                           text: its bare uses in a formula are categorical
                           (as R's read.csv + lm); a feature of
                           csvreg_spec_new that holds text makes the spec
                           the formula target ~ f1 + f2 + ... (the target's
                           and the weights' flags are ignored); NULL: none */
  size_t max_levels;                 /* formula specs: levels allowed per categorical variable
                                        (factor(), relevel()); past it a data error
                                        (CSVREG_E_VALUE) naming the column; 0: 1000 */
} csvreg_spec_options;

CSVREG_API void csvreg_spec_options_init(csvreg_spec_options *o);

typedef struct csvreg_spec csvreg_spec;

/* Resolves the options against the input's column names. Errors
 * (CSVREG_E_COLUMN): unknown column, a position out of range, a name that
 * two columns share, the target used as a feature or as the weights. */
CSVREG_API csvreg_status csvreg_spec_new(csvreg_spec **out, const char *const *names,
                                         size_t ncolumns, const csvreg_spec_options *o,
                                         csvreg_error *err);
CSVREG_API void csvreg_spec_free(csvreg_spec *s);

/* Model terms, not counting the intercept, in model order. */
CSVREG_API size_t csvreg_spec_nterms(const csvreg_spec *s);
CSVREG_API const char *csvreg_spec_term_name(const csvreg_spec *s, size_t i);
CSVREG_API const char *csvreg_spec_target_name(const csvreg_spec *s);
CSVREG_API const char *csvreg_spec_weights_name(const csvreg_spec *s); /* NULL: unweighted */
CSVREG_API int csvreg_spec_intercept(const csvreg_spec *s);

/* Input columns the model reads (features, target, weights; each once), as
 * 0-based column indices into the reader's columns, and their names. */
CSVREG_API size_t csvreg_spec_ninputs(const csvreg_spec *s);
CSVREG_API size_t csvreg_spec_input_column(const csvreg_spec *s, size_t k);
CSVREG_API const char *csvreg_spec_input_name(const csvreg_spec *s, size_t k);

/* ------------------------------------------------------------------------ */
/* Chunk: a fixed block of rows                                             */
/* ------------------------------------------------------------------------ */

/* Default rows per chunk, chosen by measurement (bench/README.md): with the
 * AVX2 QR update a block of 2M x 10 rows stays in the L1/L2 caches at 256-512
 * rows (6-10% faster than 1024, 2048 slower again); on 100k x 200 rows 512 is
 * as fast as 1024 and 4096 is 20% slower. */
#define CSVREG_DEFAULT_CHUNK_ROWS 512

/* Per-stage row counts. */
typedef struct csvreg_counts {
  uint64_t records;     /* data records read (header excluded) */
  uint64_t used;        /* rows in the fit (weight > 0) */
  uint64_t zero_weight; /* complete rows with weight 0: read, not in the fit */
  uint64_t dropped_na;  /* rows dropped for a missing value */
  uint64_t dropped_bad; /* rows dropped by skip_bad */
  uint64_t new_level;   /* rows left out by a saved model's spec: a categorical
                           value the model never saw (CSVREG_ROW_NEW_LEVEL) */
} csvreg_counts;

/* t := t + c, count by count. */
CSVREG_API void csvreg_counts_add(csvreg_counts *t, const csvreg_counts *c);

typedef struct csvreg_chunk csvreg_chunk;

/* A chunk of `rows` rows (0: CSVREG_DEFAULT_CHUNK_ROWS) for `s`, which must
 * outlive the chunk. Memory: rows x (inputs + terms + 2) doubles. */
CSVREG_API csvreg_status csvreg_chunk_new(csvreg_chunk **out, const csvreg_spec *s, size_t rows,
                                          csvreg_error *err);
CSVREG_API void csvreg_chunk_free(csvreg_chunk *c);

/* Empties the chunk, then reads records from `r` until it is full or the input
 * ends, parsing only the cells the spec uses. Returns CSVREG_OK (full),
 * CSVREG_END (the input ended; the chunk may still hold rows and counts), or
 * an error naming line, column and text. Either way, pass the chunk to
 * csvreg_accum_add_chunk before the next fill. */
CSVREG_API csvreg_status csvreg_chunk_fill(csvreg_chunk *c, csvreg_reader *r, csvreg_error *err);

/* Rows now in the chunk (complete rows, zero weights included). */
CSVREG_API size_t csvreg_chunk_rows(const csvreg_chunk *c);

/* The design block of the rows now in the chunk: x is column-major
 * (rows x nterms, leading dimension *ldx), y the target, w the weights (NULL
 * when unweighted). Borrowed until the next fill. */
CSVREG_API void csvreg_chunk_design(const csvreg_chunk *c, const double **x, size_t *ldx,
                                    const double **y, const double **w);

/* Counts for the records this chunk read. */
CSVREG_API const csvreg_counts *csvreg_chunk_counts(const csvreg_chunk *c);

/* Rows dropped as missing in this chunk, per input column k of the spec
 * (a row with two missing cells counts in both columns). */
CSVREG_API const uint64_t *csvreg_chunk_na_counts(const csvreg_chunk *c);

/* ------------------------------------------------------------------------ */
/* Accumulator: the mergeable least-squares state                           */
/* ------------------------------------------------------------------------ */

typedef enum csvreg_solver {
  CSVREG_SOLVER_QR = 0,    /* R of [1 | X-K | y-K_y], folded with dtpqrt (default) */
  CSVREG_SOLVER_NORMAL = 1 /* shifted, centred co-moments, Cholesky */
} csvreg_solver;

/* "qr" / "normal"; csvreg_solver_parse returns CSVREG_E_USAGE for others. */
CSVREG_API const char *csvreg_solver_name(csvreg_solver s);
CSVREG_API csvreg_status csvreg_solver_parse(const char *name, csvreg_solver *out);

/* Widest model accepted (terms): the state is (terms + 2)^2 doubles. */
#define CSVREG_MAX_TERMS 4096

typedef struct csvreg_accum csvreg_accum;

/* An empty accumulator for `nterms` terms. Names may be NULL ("x1", ... and
 * "y" are used); they are copied. */
CSVREG_API csvreg_status csvreg_accum_new(csvreg_accum **out, csvreg_solver solver, size_t nterms,
                                          int intercept, const char *const *term_names,
                                          const char *target_name, csvreg_error *err);

/* An empty accumulator for the spec's terms, names and input columns. */
CSVREG_API csvreg_status csvreg_accum_new_for_spec(csvreg_accum **out, const csvreg_spec *s,
                                                   csvreg_solver solver, csvreg_error *err);
CSVREG_API void csvreg_accum_free(csvreg_accum *a);

/* Folds `n` rows: x column-major (n x nterms, leading dimension ldx >= n),
 * y, and w (NULL: all 1). Rows with weight 0 are counted, not folded.
 * Values must be finite and weights >= 0 (CSVREG_E_VALUE otherwise). */
CSVREG_API csvreg_status csvreg_accum_add_rows(csvreg_accum *a, size_t n, const double *x,
                                               size_t ldx, const double *y, const double *w,
                                               csvreg_error *err);

/* Folds the chunk's design block and adds its counts. */
CSVREG_API csvreg_status csvreg_accum_add_chunk(csvreg_accum *a, const csvreg_chunk *c,
                                                csvreg_error *err);

/* dst := the accumulator of dst's rows and src's rows. Both must have the same
 * solver, terms and intercept (CSVREG_E_USAGE otherwise). An empty src or dst
 * is the identity. */
CSVREG_API csvreg_status csvreg_accum_merge(csvreg_accum *dst, const csvreg_accum *src,
                                            csvreg_error *err);

CSVREG_API const csvreg_counts *csvreg_accum_counts(const csvreg_accum *a);
CSVREG_API csvreg_solver csvreg_accum_solver(const csvreg_accum *a);

/* ------------------------------------------------------------------------ */
/* State files: the accumulator as text                                     */
/* ------------------------------------------------------------------------ */

/* The accumulator's whole state as one line of JSON (no newline): format
 * "csvreg-state" and version, solver, intercept, names, counts, and the
 * shift and factor (QR) or means and co-moments (normal) as exact hex-float
 * strings, so that a saved state loads back bit-identical. `meta_json` is an
 * optional JSON object text stored under "meta" (provenance: shard, byte
 * range, ...; NULL: none). A CRC-32 of the canonical text of all other members
 * is stored under "checksum". *out is malloc'd; free() it. */
CSVREG_API csvreg_status csvreg_accum_save(const csvreg_accum *a, const char *meta_json, char **out,
                                           csvreg_error *err);

/* Rebuilds an accumulator from `len` bytes written by csvreg_accum_save.
 * CSVREG_E_FORMAT for text that is not JSON, not a state, from a newer format
 * version, fails its checksum, or is inconsistent. When `meta_json` is not
 * NULL it receives the "meta" object as malloc'd text (NULL when absent). */
CSVREG_API csvreg_status csvreg_accum_load(csvreg_accum **out, const char *text, size_t len,
                                           char **meta_json, csvreg_error *err);

/* A deep copy of `a` (exactly equal: the same numbers, counts and names). */
CSVREG_API csvreg_status csvreg_accum_copy(const csvreg_accum *a, csvreg_accum **out,
                                           csvreg_error *err);

/* ------------------------------------------------------------------------ */
/* Solving and the fit                                                      */
/* ------------------------------------------------------------------------ */

/* Default aliasing tolerance. A term is aliased (as in R's lm, in column
 * order) when the norm of its part orthogonal to the earlier kept terms is
 * below tol times its own norm (both after the shift). R uses 1e-7, which
 * drops a column of NIST Filip (ratio ~ 1e-8); exactly dependent columns give
 * ratios near 1e-15. */
#define CSVREG_DEFAULT_TOL 1e-10

typedef struct csvreg_solve_options {
  double tol;   /* aliasing tolerance; default CSVREG_DEFAULT_TOL */
  double level; /* confidence level of the intervals; default 0.95 */
} csvreg_solve_options;

CSVREG_API void csvreg_solve_options_init(csvreg_solve_options *o);

/* One row of the coefficient table. */
typedef struct csvreg_term {
  const char *name; /* "(Intercept)" for the intercept */
  int aliased;      /* 1: linearly dependent on earlier terms; numbers are NaN */
  double estimate, std_error, t_value, p_value, ci_lower, ci_upper;
} csvreg_term;

/* A solved model: opaque, read through the accessors below, freed with
 * csvreg_fit_free. Statistics follow R's summary.lm / logLik.lm, weighted as
 * lm(weights=) (rows with weight 0 do not count in n). Values that do not
 * exist (no residual degrees of freedom, aliased terms) are NaN. */
typedef struct csvreg_fit csvreg_fit;

/* The fit's numbers that are not per term (a view borrowed from the fit). */
typedef struct csvreg_fit_summary {
  csvreg_solver solver;
  int intercept;
  int weighted;
  size_t nterms;        /* coefficients, the intercept first if any */
  size_t rank;          /* coefficients not aliased */
  size_t ninputs;       /* input columns, for the per-column NA counts */
  csvreg_counts counts; /* n = counts.used */
  double df_residual;   /* n - rank */
  double rss, tss;      /* residual and total (centred with an intercept)
                           sums of squares, weighted */
  double residual_sd;   /* sqrt(rss / df_residual) */
  double r_squared, adj_r_squared;
  double f_statistic, f_df1, f_df2, f_p_value;
  double log_likelihood, aic, bic;
  double condition_number; /* 2-norm estimate of the column-scaled design
                              (centred when there is an intercept) */
  double digits;           /* estimated correct digits: 16 - log10(condition) */
  double level, tol;
} csvreg_fit_summary;

CSVREG_API const csvreg_fit_summary *csvreg_fit_get_summary(const csvreg_fit *f);
/* The target's name. */
CSVREG_API const char *csvreg_fit_target(const csvreg_fit *f);
/* Coefficient i (0 <= i < nterms), borrowed from the fit. */
CSVREG_API const csvreg_term *csvreg_fit_term(const csvreg_fit *f, size_t i);
/* Input column k's name and how many rows it dropped as missing. */
CSVREG_API const char *csvreg_fit_input_name(const csvreg_fit *f, size_t k);
CSVREG_API uint64_t csvreg_fit_input_na(const csvreg_fit *f, size_t k);
/* Entry (i, j) of the unscaled covariance of the coefficients: (X'WX)^-1 in
 * the original (unshifted) coordinates, NaN in the rows and columns of
 * aliased terms. Times residual_sd^2 it is Var(b). */
CSVREG_API double csvreg_fit_xtx_inv(const csvreg_fit *f, size_t i, size_t j);

/* Solves the accumulated problem. Errors: CSVREG_E_NUMERIC when no rows were
 * folded or every term is aliased. `o` may be NULL for the defaults. */
CSVREG_API csvreg_status csvreg_accum_solve(const csvreg_accum *a, const csvreg_solve_options *o,
                                            csvreg_fit **out, csvreg_error *err);
CSVREG_API void csvreg_fit_free(csvreg_fit *f);

/* As csvreg_accum_solve, but the fit takes the
 * accumulator's numbers instead of copying them: the QR solve works in the
 * state's own q x q array, which becomes the fit's covariance, so a wide
 * fit (a 1000-level factor: q^2 doubles, 8 MB) holds one such array, not
 * two. Afterwards, whether the solve succeeded or not, `a` keeps its names,
 * counts and levels (csvreg_accum_counts, csvreg_fit_set_spec, freeing) and
 * no rows: every use of its numbers (folds, merges, copies, state files,
 * another solve) returns CSVREG_E_USAGE. The fit equals csvreg_accum_solve's. */
CSVREG_API csvreg_status csvreg_accum_solve_release(csvreg_accum *a,
                                                    const csvreg_solve_options *o,
                                                    csvreg_fit **out, csvreg_error *err);

/* The fit as a JSON object (its summary, terms and NA counts; non-finite numbers as
 * null; doubles at round-trip precision). *out is malloc'd; free() it. */
CSVREG_API csvreg_status csvreg_fit_to_json(const csvreg_fit *f, char **out, csvreg_error *err);

/* csvreg_fit_to_json's text and a newline written to `out` as it is made
 * (issue 12: the p x p covariance never held as text or a tree; the same
 * bytes). CSVREG_E_IO when a write fails, CSVREG_E_NOMEM. */
CSVREG_API csvreg_status csvreg_fit_write_json(const csvreg_fit *f, FILE *out, csvreg_error *err);

/* ------------------------------------------------------------------------ */
/* Chunk rows' record numbers, splitting rows into parts                    */
/* ------------------------------------------------------------------------ */

/* The record number (as csvreg_record.number: the header is record 1) of
 * each row now in the chunk, csvreg_chunk_rows(c) of them. Borrowed until
 * the next fill. */
CSVREG_API const uint64_t *csvreg_chunk_record_numbers(const csvreg_chunk *c);

/* A deterministic number in [0, 1) for a record number and a seed
 * (splitmix64 of both), the same on every machine: row `record` is held out
 * when u < fraction, and is in fold floor(u * K) of K-fold validation. */
CSVREG_API double csvreg_split_uniform(uint64_t record, uint64_t seed);

/* Folds the chunk's rows into `nparts` accumulators made for the same spec:
 * row i goes to parts[part[i]] (part[i] < nparts). The rows the chunk
 * dropped (missing values, bad rows) are counted in parts[0]. On an error
 * some parts may already hold their rows. */
CSVREG_API csvreg_status csvreg_accum_add_chunk_split(csvreg_accum *const *parts, size_t nparts,
                                                      const csvreg_chunk *c, const size_t *part,
                                                      csvreg_error *err);

/* How well a fit explains the rows of an accumulator, computed exactly from
 * the accumulator (no second pass over the rows): for the coefficients b,
 * SSE = |R c|^2 with c = (K_y - b0 - b'K, -b, 1) on the state's own shift
 * (qr), or c'Mc from the co-moments (normal). Weighted as the fit. */
typedef struct csvreg_score {
  uint64_t n;       /* rows with weight > 0 */
  double sum_w;     /* their weight (n when unweighted) */
  double sse;       /* sum w (y - yhat)^2 */
  double mse, rmse; /* sse / sum_w and its root */
  double tss;       /* sum w (y - mean_w(y))^2 about the rows' own mean; NaN
                       for a qr state without an intercept, which does not
                       keep the mean of y */
  double r_squared; /* 1 - sse / tss (NaN when tss is NaN or 0) */
} csvreg_score;

/* Scores `fit` (aliased terms count as 0) on the rows of `a`, which must have
 * the fit's terms, target and intercept (CSVREG_E_USAGE otherwise). An empty
 * accumulator gives n = 0 and NaN statistics. */
CSVREG_API csvreg_status csvreg_accum_score(const csvreg_accum *a, const csvreg_fit *fit,
                                            csvreg_score *out, csvreg_error *err);

/* ---- states of formulas with categorical variables (state version 2) ----
 * A state of a formula with factor(), relevel() or text columns holds the
 * formula's frame (its text, the header, the columns read as text, the
 * weights) and each categorical variable's levels. A shard's state (fit
 * --emit-state: csvreg_pass_options.open_levels) has a column for every
 * level it saw; states merge aligned by level names, and this call then
 * chooses R's columns (levels in R's order, baselines dropped) exactly, on
 * the state alone. Nothing for any other state, or one whose columns are
 * chosen already. CSVREG_E_VALUE when relevel's ref is not among the
 * levels. */
CSVREG_API csvreg_status csvreg_accum_finish(csvreg_accum *a, csvreg_error *err);

/* ---- solve's report of a formula state (helper factors12) ---- */
/* As csvreg_fit_set_spec for a fit solved from a state that keeps its
 * formula's frame (fit --emit-state of a formula, merged or not, then
 * csvreg_accum_finish): the spec is rebuilt from the state's frame, so the
 * report shows the formula and levels as fit's does. Nothing for a state
 * without a frame (-y/-x, plain-column formulas). */
CSVREG_API csvreg_status csvreg_fit_set_state_spec(csvreg_fit *f, const csvreg_accum *a,
                                                   csvreg_error *err);
/* ---- end of solve's report of a formula state ---- */

/* ------------------------------------------------------------------------ */
/* Models: a fit kept in a file, predictions                                */
/* ------------------------------------------------------------------------ */

/* A model file is one JSON object: "format": "csvreg-model", "version", the
 * tool's version, the model's spec ("spec": its input columns with their
 * roles, target, weights, intercept and terms, each term naming the inputs
 * it reads; see csvreg_model_spec_new), how its input was read ("reader":
 * delimiter, header, na), the fit's options ("options": solver, tol, level),
 * the fit report of csvreg_fit_to_json ("fit"), the accumulator state of
 * csvreg_accum_save without its checksum ("state"), and a CRC-32 of the
 * canonical text of all that ("checksum"). Doubles in the state are exact
 * hex floats, so a loaded model predicts bit-identically. Version 1 files
 * (no "spec" or "reader": everything under "options") still load.
 * Version 3 is a formula's model (written only for a spec that keeps a
 * formula: transforms, interactions, categorical columns; others stay
 * version 2): its "spec" holds the formula as written, the input columns in
 * the training header's order with their text flag (bare uses categorical),
 * the weights, the intercept, each categorical variable's final levels
 * ("factors": name -> levels, baseline first) and the term names, which the
 * loader rebuilds from the formula and the levels and checks. */
#define CSVREG_MODEL_FORMAT "csvreg-model"
#define CSVREG_MODEL_VERSION 3

typedef struct csvreg_model_options {
  const char *weights;        /* the weights column's name; NULL: unweighted */
  const char *na;             /* the NA tokens given to fit; NULL: the default */
  char delimiter;             /* the training input's delimiter */
  int header;                 /* the training input had a header */
  csvreg_solve_options solve; /* tol and level used by the fit */
  const csvreg_spec *spec;    /* the fit's spec (NULL: the terms are input
                                 columns). A spec that keeps a formula gives
                                 a version 3 model (its formula and levels);
                                 only read by csvreg_model_new, NULL in the
                                 model's own options */
} csvreg_model_options;

CSVREG_API void csvreg_model_options_init(csvreg_model_options *o);

typedef struct csvreg_model csvreg_model;

/* A model of the fitted accumulator `a` (copied) and its options (copied).
 * The fit is solved again from the copy, so it equals csvreg_accum_solve(a). */
CSVREG_API csvreg_status csvreg_model_new(csvreg_model **out, const csvreg_accum *a,
                                          const csvreg_model_options *o, csvreg_error *err);
CSVREG_API void csvreg_model_free(csvreg_model *m);

/* ---- issue 12: a model of the fit already made (no copy, no second solve) ---- */

/* A model of a fit the caller has already solved, for saving
 * (csvreg_model_write, csvreg_model_save): the model takes `state`,
 * `fitted` and `fit` (whatever it returns; they stay valid, read through
 * csvreg_model_state, csvreg_model_accum and csvreg_model_fit, until the
 * model is freed). `state` is the accumulator saved in the file; `fitted`
 * is NULL when the fit is state's own solve, or, for a state that keeps
 * every level's column (a formula's --update or -o), its finished copy,
 * which may have been released (csvreg_accum_solve_release). `fit` must be
 * the solve of that accumulator with o->solve (checked: terms, solver,
 * intercept; CSVREG_E_USAGE otherwise) and not robust or refined (a model
 * keeps those with csvreg_model_set_vcov and csvreg_model_set_refined).
 * The file is byte for byte csvreg_model_new's. Unlike a model made by
 * csvreg_model_new or loaded, this one has no prediction factor: its
 * predictions work, its intervals and influence measures return
 * CSVREG_E_USAGE (load the saved file for those). */
CSVREG_API csvreg_status csvreg_model_new_from_fit(csvreg_model **out, csvreg_accum *state,
                                                   csvreg_accum *fitted, csvreg_fit *fit,
                                                   const csvreg_model_options *o,
                                                   csvreg_error *err);

/* Moves the state a model of a formula with categorical variables keeps
 * (every level's column: csvreg_model_state) out to the caller, who frees
 * it; for fit --update, which folds new rows into it (issue 12: no copy).
 * The model also drops its finished state's numbers and its prediction
 * factor: it still binds specs, keeps its options, fit and folded records
 * and predicts, but saving it and its intervals return CSVREG_E_USAGE.
 * CSVREG_E_USAGE for a model that keeps no such state. */
CSVREG_API csvreg_status csvreg_model_take_state(csvreg_model *m, csvreg_accum **out,
                                                 csvreg_error *err);

/* The model file's text (pretty JSON ending in a newline); *out is malloc'd. */
CSVREG_API csvreg_status csvreg_model_save(const csvreg_model *m, char **out, csvreg_error *err);

/* Reads a model from `len` bytes of a model file. CSVREG_E_FORMAT, with a
 * message that says which, for text that is not JSON, JSON that is not a
 * model (a state file is named as such), a newer format version, a checksum
 * mismatch (edited or truncated), or parts that disagree with each other
 * (the state's fit is solved again and must match the stored report). */
CSVREG_API csvreg_status csvreg_model_load(csvreg_model **out, const char *text, size_t len,
                                           csvreg_error *err);

/* ---- big17: model files read with their size bounded (issue 17 item 9) ---- */

/* The largest model file read: a model of CSVREG_MAX_TERMS terms is about
 * 510 MB (121 MB at 2000 terms; O(terms^2)). */
#define CSVREG_MODEL_MAX_BYTES ((size_t)1 << 30)

/* Reads a model file from descriptor `fd` (to its end; the descriptor stays
 * open) and loads it as csvreg_model_load does, with the text's size bounded
 * as it is read, not after: a regular file larger than
 * CSVREG_MODEL_MAX_BYTES is refused by its size before a byte is read; text
 * that cannot be JSON stops the read in the block where it shows (the
 * loader's message then says where); and once the model's terms are read
 * (its "spec" comes first) the text may be at most what a model of that many
 * terms takes, 128 (T + 3)^2 bytes plus 16 times the text up to its terms
 * plus 32 MiB, which a pipe or a file of garbage or padding passes long before
 * the cap. CSVREG_E_FORMAT for those, CSVREG_E_IO for a failed read (errno's
 * text), CSVREG_E_NOMEM. The text is freed once the model is loaded. */
CSVREG_API csvreg_status csvreg_model_read_fd(csvreg_model **out, int fd, csvreg_error *err);

/* ---- mem12e: a model read for predictions only (issue 12) ---- */

/* csvreg_model_read_fd_with's flag: the model is read for point
 * predictions (predict without intervals or row statistics, eval). It keeps
 * no pre-select state (its state is finished in place) and no design
 * factor, and its fit takes the finished state's numbers for its
 * covariance (csvreg_accum_solve_release): a wide model holds one q x q
 * array, not four. Its fit, options, spec binding and point predictions are
 * those of csvreg_model_read_fd; intervals, influence measures, saving,
 * csvreg_model_solve and csvreg_model_take_state return CSVREG_E_USAGE. */
#define CSVREG_MODEL_READ_PREDICT 1u

/* csvreg_model_read_fd_with's flag: the model is read for fit --update
 * (csvreg_model_take_state). It keeps its state and has no design factor;
 * when that state is a pre-select one (csvreg_model_state differs from
 * csvreg_model_accum), the finished copy's numbers go to the fit
 * (csvreg_accum_solve_release): two q x q arrays, not four. Saving it,
 * csvreg_model_take_state and point predictions work; intervals and
 * influence measures return CSVREG_E_USAGE, and with a pre-select state so
 * does csvreg_model_solve. */
#define CSVREG_MODEL_READ_UPDATE 2u

/* csvreg_model_read_fd with `flags` (0 or one of the two above). */
CSVREG_API csvreg_status csvreg_model_read_fd_with(csvreg_model **out, int fd, unsigned flags,
                                                   csvreg_error *err);

/* Borrowed views, valid until the model is freed. */
CSVREG_API const csvreg_fit *csvreg_model_fit(const csvreg_model *m);
CSVREG_API const csvreg_accum *csvreg_model_accum(const csvreg_model *m);
CSVREG_API const csvreg_model_options *csvreg_model_get_options(const csvreg_model *m);
CSVREG_API size_t csvreg_model_nfeatures(const csvreg_model *m);
CSVREG_API const char *csvreg_model_feature(const csvreg_model *m, size_t j);
CSVREG_API const char *csvreg_model_target(const csvreg_model *m);

/* ---- formula models (issue 12) ---- */
/* The formula of a version 3 model as given to fit; NULL for a model of
 * input columns (versions 1 and 2). */
CSVREG_API const char *csvreg_model_formula(const csvreg_model *m);
/* The number of categorical variables of a formula model (0 for a formula
 * of numeric terms only and for a model of input columns). */
CSVREG_API size_t csvreg_model_nfactors(const csvreg_model *m);
/* The formula and each categorical variable's final levels (R's order,
 * baseline first) of the spec `s` that filled `a`, for the fit's report
 * (csvreg_fit_to_json: "formula", "factors"). Nothing for a spec that keeps
 * no formula (a formula of plain columns reports as -y/-x). */
CSVREG_API csvreg_status csvreg_fit_set_spec(csvreg_fit *f, const csvreg_spec *s,
                                             const csvreg_accum *a, csvreg_error *err);
/* ---- end of formula models ---- */

/* ---- the formula in the text report (helper factors) ---- */
/* The lines a formula's fit adds to its text report, each ending in a
 * newline: "Formula: " and the formula as R deparses it (summary.lm's Call
 * line), one "Factor NAME: N levels, baseline \"LEVEL\"" line per
 * categorical variable (or "a column for each level (no baseline)" when no
 * term codes it by contrasts), and "Transforms: " listing the variables
 * computed from the columns ("(response)" after a transformed response).
 * *out is malloc'd (free it), NULL for a fit without a formula. */
CSVREG_API csvreg_status csvreg_fit_formula_lines(const csvreg_fit *f, char **out,
                                                  csvreg_error *err);
/* ---- end of the formula in the text report ---- */

typedef enum csvreg_interval {
  CSVREG_INTERVAL_NONE = 0,
  CSVREG_INTERVAL_CONFIDENCE = 1, /* for the mean response */
  CSVREG_INTERVAL_PREDICTION = 2  /* for a new observation (weight 1) */
} csvreg_interval;

/* Predictions for n rows of the model's features (x column-major, n x
 * nfeatures, leading dimension ldx >= n) into yhat; aliased terms count as
 * 0, as in R's predict.lm. With an interval, lower and upper get
 * yhat -/+ qt((1 + level) / 2, df) * se, se from the stored factor of the
 * shifted design (R^-T x) and the residual variance, as predict.lm(interval=).
 * CSVREG_E_NUMERIC for an interval without residual degrees of freedom. */
CSVREG_API csvreg_status csvreg_model_predict(const csvreg_model *m, size_t n, const double *x,
                                              size_t ldx, csvreg_interval iv, double level,
                                              double *yhat, double *lower, double *upper,
                                              csvreg_error *err);

/* ---- predict: weighted intervals, residuals and influence (issue 16) ---- */
/* As csvreg_model_predict, with the new rows' weights w (NULL: all 1) for a
 * prediction interval: a new observation's variance is sigma^2 / w, as
 * predict.lm(weights=). Confidence intervals do not depend on w. */
CSVREG_API csvreg_status csvreg_model_predict_weighted(const csvreg_model *m, size_t n,
                                                       const double *x, size_t ldx, const double *w,
                                                       csvreg_interval iv, double level,
                                                       double *yhat, double *lower, double *upper,
                                                       csvreg_error *err);
/* The training fit's row statistics at n rows (x as csvreg_model_predict,
 * y the response, w the weights or NULL for 1, yhat the predictions):
 * resid = y - yhat (R's residuals), hat = the leverage w x'(X'WX)^-1 x
 * (hatvalues), rstd = sqrt(w)(y - yhat) / (sigma sqrt(1 - hat)) (rstandard),
 * cooks = (sqrt(w)(y - yhat) / (sigma (1 - hat)))^2 hat / rank
 * (cooks.distance). At the training rows they equal R's for lm(weights=).
 * Each output may be NULL; a NaN y or w gives NaN, and so does a weight of
 * 0 in rstd and cooks (R leaves such rows out). CSVREG_E_NUMERIC when a
 * leverage is asked of a model whose design factor is singular. */
CSVREG_API csvreg_status csvreg_model_influence(const csvreg_model *m, size_t n, const double *x,
                                                size_t ldx, const double *y, const double *w,
                                                const double *yhat, double *resid, double *hat,
                                                double *rstd, double *cooks, csvreg_error *err);
/* csvreg_model_spec_new flags, with CSVREG_MODEL_BIND_TARGET: a target or
 * weight that is an NA token is NaN in a complete row (its prediction does
 * not need it), and a response that is not finite (log(0)) keeps the row */
#define CSVREG_MODEL_BIND_TARGET_OPTIONAL 8u
/* ... and the weights column is not bound (the input need not have it) */
#define CSVREG_MODEL_BIND_NO_WEIGHTS 16u
/* ---- end predict: weighted intervals, residuals and influence ---- */

/* ---- --skip-bad reports (issue 16) ---- */
/* A row that skip_bad dropped, as the chunk drops it. Borrowed for the call. */
typedef struct csvreg_bad_row {
  const char *source;         /* the input's name, as in errors */
  uint64_t line;              /* the record's first line */
  size_t column;              /* 1-based column; 0: the record's width */
  const char *name;           /* that column's name; NULL for the width */
  const char *reason;         /* e.g. expected a number, found "x" */
  const csvreg_field *fields; /* the record's fields; NULL when the row was
                                 dropped after parsing (a transform that is
                                 not finite: reason says the values) */
  size_t nfields;
} csvreg_bad_row;
typedef void (*csvreg_bad_row_fn)(void *ctx, const csvreg_bad_row *b);
/* fn(ctx, row) for every row the chunk's fills drop as bad (skip_bad), in
 * input order within a fill but for rows dropped for a transform, which
 * come at the fill's end. fn NULL: none (the default). */
CSVREG_API void csvreg_chunk_on_bad(csvreg_chunk *c, csvreg_bad_row_fn fn, void *ctx);
/* ---- end --skip-bad reports ---- */

/* ------------------------------------------------------------------------ */
/* Evaluation metrics                                                       */
/* ------------------------------------------------------------------------ */

/* Metrics of predictions against the truth, as sklearn.metrics defines them
 * with sample_weight (rows of weight 0 do not count). error = y - yhat. */
typedef struct csvreg_metrics {
  uint64_t n;        /* rows scored */
  uint64_t n_zero_y; /* rows with y = 0, left out of the MAPE */
  double sum_w;
  double mse, rmse, mae;
  double mape;               /* mean |e| / |y| over rows with y != 0 (a fraction) */
  double max_error;          /* max |e| (unweighted, as sklearn) */
  double mean_error;         /* weighted mean of y - yhat (the bias) */
  double r_squared;          /* 1 - SSE / sum w (y - ybar)^2, ybar this set's mean */
  double explained_variance; /* 1 - var_w(e) / var_w(y) */
} csvreg_metrics;

typedef struct csvreg_evaluator csvreg_evaluator;

CSVREG_API csvreg_status csvreg_evaluator_new(csvreg_evaluator **out, csvreg_error *err);
CSVREG_API void csvreg_evaluator_free(csvreg_evaluator *e);

/* Adds n rows (w NULL: all 1; weights must be finite and >= 0). Sums are
 * compensated (Neumaier) and the variances combined per block (Chan et al.),
 * so the result does not depend on how rows are split into calls. */
CSVREG_API csvreg_status csvreg_evaluator_add(csvreg_evaluator *e, size_t n, const double *y,
                                              const double *yhat, const double *w,
                                              csvreg_error *err);

/* The metrics of the rows added so far (NaN where undefined: no rows,
 * constant y). */
CSVREG_API void csvreg_evaluator_result(const csvreg_evaluator *e, csvreg_metrics *out);

/* ------------------------------------------------------------------------ */
/* Models and prediction: one row path for fit, predict and eval            */
/* ------------------------------------------------------------------------ */

/* What a row of a chunk became (csvreg_chunk_row_status). */
typedef enum csvreg_row_status {
  CSVREG_ROW_OK = 0,          /* every used cell a number: a row of the design block */
  CSVREG_ROW_MISSING = 1,     /* some used cell is an NA token */
  CSVREG_ROW_BAD = 2,         /* a non-number or the wrong width (skip_bad) */
  CSVREG_ROW_ZERO_WEIGHT = 3, /* weight 0, left out (drop_zero_weight) */
  CSVREG_ROW_NEW_LEVEL = 4    /* a saved model's categorical column holds a
                                 level the model never saw (no coefficient:
                                 R's "factor has new levels"); with na_error
                                 an error (CSVREG_E_VALUE) instead */
} csvreg_row_status;

/* How a chunk fills. The defaults are fit's: rows with a missing value are
 * dropped and counted, a fill stops at `rows` complete rows. */
typedef struct csvreg_chunk_options {
  size_t rows;          /* capacity (0: CSVREG_DEFAULT_CHUNK_ROWS) */
  int keep_rows;        /* 1: a fill stops at `rows` records, and every record
                           read has a status, in input order
                           (csvreg_chunk_row_status); the complete ones are
                           the design block's rows, in the same order */
  int keep_text;        /* with keep_rows, 1: keep each record's fields as
                           RFC 4180 text joined by `delimiter` (quoted where
                           needed; csvreg_chunk_text) */
  char delimiter;       /* for keep_text; default ',' */
  int na_error;         /* 1: a missing value is an error (CSVREG_E_VALUE
                           naming line and column), not a dropped row */
  int drop_zero_weight; /* 1: rows of weight 0 are counted but not kept (an
                           evaluator scores nothing from them) */
} csvreg_chunk_options;

CSVREG_API void csvreg_chunk_options_init(csvreg_chunk_options *o);

/* As csvreg_chunk_new with options. Memory with keep_text: the text of one
 * chunk's records besides the numbers. */
CSVREG_API csvreg_status csvreg_chunk_new_with(csvreg_chunk **out, const csvreg_spec *s,
                                               const csvreg_chunk_options *o, csvreg_error *err);

/* keep_rows: records the last fill read, their statuses
 * (csvreg_row_status values), and with keep_text their text: record i is
 * text[ends[i - 1] .. ends[i]) (ends[-1] = 0), without a line end. Borrowed
 * until the next fill. */
CSVREG_API size_t csvreg_chunk_nrecords(const csvreg_chunk *c);
CSVREG_API const unsigned char *csvreg_chunk_row_status(const csvreg_chunk *c);
CSVREG_API void csvreg_chunk_text(const csvreg_chunk *c, const char **text, const size_t **ends);

/* Appends `n` fields as one CSV record (RFC 4180: a field holding the
 * delimiter, a quote, CR or LF is quoted and its quotes doubled), without a
 * line end, to the malloc'd buffer *buf of *cap bytes holding *len (NULL, 0,
 * 0 to start; grown as needed; free() it). */
CSVREG_API csvreg_status csvreg_csv_append(char **buf, size_t *len, size_t *cap,
                                           const csvreg_field *fields, size_t n, char delim,
                                           csvreg_error *err);

/* What csvreg_model_spec_new binds besides the inputs of the terms. */
#define CSVREG_MODEL_BIND_TARGET 1u   /* the target and the weights (eval, updates) */
#define CSVREG_MODEL_BIND_SKIP_BAD 2u /* the spec's skip_bad */

/* The spec of a saved model against a new input's column names: each input
 * the model reads is found by its exact name, in any order (other columns
 * are ignored); the terms, intercept and NA tokens are the model's. Without
 * CSVREG_MODEL_BIND_TARGET the spec has no target (csvreg_spec_target_name
 * is NULL) nor weights: it is for predicting, and cannot make an
 * accumulator. CSVREG_E_COLUMN naming the first input that is missing or
 * whose name two columns share; the error's source and line are left to the
 * caller, who knows the input. A formula's model (version 3) gives the spec
 * of its formula with the saved levels: the design is rebuilt per row, the
 * inputs only its response reads are not needed without the target, and a
 * row whose categorical column holds a level the model never saw is
 * CSVREG_ROW_NEW_LEVEL (counted in csvreg_counts.new_level), or with the
 * chunk's na_error a CSVREG_E_VALUE naming line, column and level. */
CSVREG_API csvreg_status csvreg_model_spec_new(csvreg_spec **out, const csvreg_model *m,
                                               const char *const *names, size_t ncolumns,
                                               unsigned flags, csvreg_error *err);

/* ---- --update of formula models with categorical variables ---- */
/* csvreg_model_spec_new of a formula model: its levels are not fixed but
 * found as the rows come (new levels add columns, as in a fit), for the
 * rows folded into the model (fit --update). */
#define CSVREG_MODEL_BIND_OPEN_LEVELS 4u
/* The state the model keeps: for a formula model with categorical
 * variables (version 3) the pre-select state (a column for every level,
 * baselines included), which takes rows with new levels exactly (merge with
 * csvreg_accum_merge, then csvreg_accum_finish chooses R's columns);
 * otherwise csvreg_model_accum. */
CSVREG_API const csvreg_accum *csvreg_model_state(const csvreg_model *m);
/* ---- end --update of formula models ---- */

/* Evaluation metrics and the row counts of the run as a JSON object (eval
 * --format json): n, the metrics (non-finite as null), n_zero_y, n_read,
 * n_missing, n_bad, n_zero_weight, n_new_level (only when > 0), target,
 * weighted. *out is malloc'd (no trailing newline); free() it. */
CSVREG_API csvreg_status csvreg_metrics_to_json(const csvreg_metrics *m,
                                                const csvreg_counts *counts, const char *target,
                                                int weighted, char **out, csvreg_error *err);

/* ------------------------------------------------------------------------ */
/* Shards and scheduled refits                                              */
/* ------------------------------------------------------------------------ */

/* Exponential forgetting: scales every folded row's weight by `lambda`
 * (0 < lambda <= 1), as if the rows had been folded with weights lambda * w.
 * qr: R is scaled by sqrt(lambda); normal: the co-moments and the weight sum
 * by lambda. The row counts (n, df) do not change; the state becomes
 * weighted, so the log-likelihood uses sum log(lambda * w) as R's
 * lm(weights=) would for an explicit weighted refit. An empty state is left
 * as it is. CSVREG_E_USAGE for lambda outside (0, 1]. */
CSVREG_API csvreg_status csvreg_accum_scale(csvreg_accum *a, double lambda, csvreg_error *err);

/* Rolling windows: dst := dst without the rows of src (src must have been
 * merged into dst). Only the normal solver supports it (co-moment downdate,
 * the inverse of the pairwise update); the QR factor cannot be downdated
 * stably and gives CSVREG_E_USAGE. CSVREG_E_NUMERIC when the result would
 * have negative counts or weight, or a co-moment matrix that is not
 * positive semi-definite (src was not part of dst); dst is then unchanged. */
CSVREG_API csvreg_status csvreg_accum_subtract(csvreg_accum *dst, const csvreg_accum *src,
                                               csvreg_error *err);

/* ------------------------------------------------------------------------ */
/* State sets: state lines checked, ordered and merged (merge, solve)       */
/* ------------------------------------------------------------------------ */

/* A set of states read from lines (files, pipes, Hadoop Streaming), checked
 * to belong together and merged in an order fixed by their provenance (byte
 * range, then checksum), so that the result does not depend on the order in
 * which they arrive. Each state is kept as its accumulator and a small
 * record of its columns and provenance; its text is not kept. */
typedef struct csvreg_stateset csvreg_stateset;

/* Longest state line read (bytes, line feed excluded): the numbers of a
 * state of CSVREG_MAX_TERMS terms, at most (T + 2)(T + 3) / 2 + 2 (T + 2)
 * hex floats of at most 32 bytes each with quotes and comma (269 MB), plus
 * 64 MiB for names and provenance: 336 MB. A longer line cannot be a state
 * csvreg wrote for a header of up to tens of MiB; reading stops there rather
 * than hold an unbounded line (`merge /dev/zero`). */
#define CSVREG_STATE_MAX_LINE                                                                      \
  ((((size_t)(CSVREG_MAX_TERMS + 2) * (CSVREG_MAX_TERMS + 3)) / 2 +                                \
    2 * (size_t)(CSVREG_MAX_TERMS + 2)) *                                                          \
       32 +                                                                                        \
   ((size_t)64 << 20))

/* An empty set; free it with csvreg_stateset_free (NULL is safe). */
CSVREG_API csvreg_status csvreg_stateset_new(csvreg_stateset **out, csvreg_error *err);
CSVREG_API void csvreg_stateset_free(csvreg_stateset *s);

/* Sets the longest line accepted (0: CSVREG_STATE_MAX_LINE). */
CSVREG_API void csvreg_stateset_set_max_line(csvreg_stateset *s, size_t bytes);

/* Adds the state held in `len` bytes of one line (a trailing CR/LF is
 * ignored) that was line `line` of `source` (both for messages). A blank
 * line adds nothing; a `key<TAB>` prefix (Hadoop Streaming) is dropped.
 * `source` (copied; NULL: none) names the state in later messages too.
 * CSVREG_E_FORMAT, with source and line in `err`, for a line that is not a
 * state (not JSON, a failed checksum: the message then says that a line may
 * be truncated or interleaved with another writer's), a newer format, or
 * longer than the set's limit. */
CSVREG_API csvreg_status csvreg_stateset_add_text(csvreg_stateset *s, const char *text, size_t len,
                                                  const char *source, uint64_t line,
                                                  csvreg_error *err);

/* Reads `fd` to its end and adds each line as csvreg_stateset_add_text does,
 * counting lines from 1 and naming them `source` (e.g. "<stdin>"). A line
 * longer than the limit fails as soon as it is, without reading on.
 * CSVREG_E_IO when reading fails ("cannot read SOURCE: why"). The fd is left
 * open. */
CSVREG_API csvreg_status csvreg_stateset_read_fd(csvreg_stateset *s, int fd, const char *source,
                                                 csvreg_error *err);

/* Number of states added. */
CSVREG_API size_t csvreg_stateset_count(const csvreg_stateset *s);

/* Coverage checks of a merge (flags 0: not checked; zero the struct, then
 * set what is wanted). Their messages name them as the program's options,
 * --expect-records (alias --expect-rows), --expect-used and
 * --expect-bytes. */
typedef struct csvreg_stateset_checks {
  int expect_rows; /* the merged state must hold exactly `rows` records read
                      (csvreg_counts.records: NA-dropped rows included) */
  uint64_t rows;
  int expect_bytes; /* the states must cover a `bytes`-byte file exactly once: */
  uint64_t bytes;   /* byte ranges tile [0, bytes), or streamed shards add up */
  int expect_used;  /* the merged state must have used exactly `used` rows in */
  uint64_t used;    /* the fit (csvreg_counts.used, the report's n) */
  int allow_repeat; /* 1: states of streamed blocks with the same digest and
                       provenance merge (an input that holds the same block
                       twice); 0: CSVREG_E_VALUE, the block was delivered twice */
} csvreg_stateset_checks;

/* Checks that the states agree (solver, intercept, target, terms, inputs,
 * input options: CSVREG_E_FORMAT naming both states' source and line),
 * that no streamed block came twice (two states with rows and the same
 * "digest", bytes and records in their provenance: CSVREG_E_VALUE naming
 * both, unless chk->allow_repeat), sorts them by provenance, runs the checks (`chk` may be NULL; a
 * shard missing or duplicated is CSVREG_E_VALUE), and merges them in that order into a new
 * accumulator *out. *meta_json (may be NULL: not wanted) gets the merged provenance as a JSON
 * object text: input options, source, number of states merged, records, bytes, header bytes and the
 * coalesced byte ranges (so a merge of merges can check coverage again). No state is
 * CSVREG_E_FORMAT. *out and *meta_json are the caller's (free with
 * csvreg_accum_free and free). */
CSVREG_API csvreg_status csvreg_stateset_merge(csvreg_stateset *s,
                                               const csvreg_stateset_checks *chk,
                                               csvreg_accum **out, char **meta_json,
                                               csvreg_error *err);

/* Rolling windows: merges `sub` (as csvreg_stateset_merge, no checks) and
 * removes its rows from `acc` (csvreg_accum_subtract: normal solver only),
 * then rewrites *meta_json (acc's merged provenance, may point to NULL) for
 * the result: byte ranges and byte counts removed (they no longer describe
 * the rows), records updated, "subtracted" the number of states removed.
 * On failure `acc` and *meta_json are unchanged. */
CSVREG_API csvreg_status csvreg_stateset_subtract(csvreg_stateset *sub, csvreg_accum *acc,
                                                  char **meta_json, csvreg_error *err);

/* The input options the states were fitted with (delimiter, header, NA
 * tokens, weights column: those of the first state in merge order, as in
 * the merged provenance) into `mo`, after csvreg_stateset_merge; fields the
 * states do not record are left as they are. Strings are borrowed from the
 * set and valid until it is freed or changed. */
CSVREG_API void csvreg_stateset_model_options(const csvreg_stateset *s, csvreg_model_options *mo);

/* ------------------------------------------------------------------------ */
/* pass engine: one pass over an input, on threads, into sinks              */
/* ------------------------------------------------------------------------ */

/* A sink receives the chunks of a pass (the accumulator, the holdout/CV
 * split; later a group-by, the second pass of robust errors, an evaluator).
 * The contract:
 *   create(out, spec, arg, err)  an empty sink for `spec` (which outlives
 *                                it); `arg` is the sink type's own options.
 *                                A pass makes one per worker task (a byte
 *                                range, a block) and one for the total.
 *   add_chunk(sink, chunk, err)  folds the rows now in the chunk and its
 *                                counts; within one sink the chunks come in
 *                                input order.
 *   merge(into, from, err)       into := into followed by from's rows
 *                                (from's rows come later in the input);
 *                                called in input order, so the result does
 *                                not depend on thread timing.
 *   free(sink)                   NULL is a no-op.
 * Rows are identified by their record number (csvreg_chunk_record_numbers),
 * which is the whole input's on every path (ranges and blocks included), so
 * a sink that decides by record (the split) is path-independent. With one
 * thread and no range the chunks go straight into the total sink: that is
 * the plain single pass, chunk by chunk. */
typedef struct csvreg_sink_type {
  const char *name;
  csvreg_status (*create)(void **out, const csvreg_spec *spec, const void *arg, csvreg_error *err);
  csvreg_status (*add_chunk)(void *sink, const csvreg_chunk *c, csvreg_error *err);
  csvreg_status (*merge)(void *into, const void *from, csvreg_error *err);
  void (*free)(void *sink);
  /* ---- optional (issue 14): a type that leaves them out gets 0 / NULL ---- */
  unsigned flags; /* CSVREG_SINK_* below */
  /* A piece's sink, told the piece's place in input order (0: the piece
   * that starts at the first data record; a stream's blocks and a file's
   * pieces count up from there); NULL: create. The total is made by
   * create. */
  csvreg_status (*create_piece)(void **out, const csvreg_spec *spec, const void *arg,
                                uint64_t piece, csvreg_error *err);
} csvreg_sink_type;

/* The sink uses record numbers only in its error messages: a threaded pass
 * over a file may start a piece at the first line end after its cut, its
 * records numbered from 0, and check that start when the piece is merged
 * (a wrong start or a failure: the piece is read again from the true start
 * with the whole input's numbers, in a new sink). */
#define CSVREG_SINK_SPECULATE 1u
/* With this flag a stream's blocks on N threads fold into N sinks (block i
 * into sink i mod N, on one thread each, in input order), merged into the
 * total once at the end in that order, instead of one sink per block merged
 * block by block: for sinks whose merge is exact algebra (the same answer
 * to rounding in any grouping) and costs more than a block's fold (the
 * accumulator's is O(columns^3)). A block that fails fails the pass. */
#define CSVREG_SINK_LANES 2u

/* The accumulator sink: the sink is a csvreg_accum (csvreg_accum_free frees
 * it); `arg` points to the csvreg_solver. */
CSVREG_API const csvreg_sink_type *csvreg_sink_accum(void);

/* The holdout / cross-validation split: each row goes to a part by
 * csvreg_split_uniform of its record number and the seed: holdout, part 1
 * (held out) when u < fraction, else part 0 (training); K-fold, part
 * floor(u * K). The sink is a csvreg_split; `arg` points to its options. */
typedef struct csvreg_split_options {
  int folds;       /* 0: holdout; K >= 2: K-fold cross-validation */
  double fraction; /* holdout: the held-out share, 0 < fraction < 1 */
  uint64_t seed;   /* the row assignment's seed */
  csvreg_solver solver;
} csvreg_split_options;

typedef struct csvreg_split csvreg_split;
CSVREG_API const csvreg_sink_type *csvreg_sink_split(void);
CSVREG_API void csvreg_split_free(csvreg_split *s);

/* Merges into `all` (empty, or holding earlier rows such as an updated
 * model's) the rows the reported fit is made on: the training part
 * (holdout) or every fold in order (CV). */
CSVREG_API csvreg_status csvreg_split_merge_fit_rows(const csvreg_split *s, csvreg_accum *all,
                                                     csvreg_error *err);

/* The scores: holdout, one (the held-out part with `fit`); CV, one per fold
 * (fold k with the fit of `base` (may be NULL: none) plus the other folds,
 * solved with `so`). `scores` has csvreg_split_nscores(s) entries. A CV
 * failure names its fold. */
CSVREG_API size_t csvreg_split_nscores(const csvreg_split *s);
/* ---- split (categorical terms): held-out rows the fit cannot score ----
 * Score i's held-out rows whose level of a categorical term never occurs
 * in its training rows (R's predict.lm fails on them: "factor has new
 * levels"), summed over the categorical terms (a row with two such levels
 * counts twice). They are scored as if that level's effect were 0 (its
 * column is all zero in training: an aliased term). 0 without categorical
 * terms. */
CSVREG_API uint64_t csvreg_split_unseen(const csvreg_split *s, size_t i);
CSVREG_API csvreg_status csvreg_split_score(const csvreg_split *s, const csvreg_fit *fit,
                                            const csvreg_accum *base,
                                            const csvreg_solve_options *so, csvreg_score *scores,
                                            csvreg_error *err);

/* The means of the scores' mse, rmse and r_squared over those that are
 * finite (NaN when none is); n and sum_w are the totals. */
CSVREG_API void csvreg_scores_mean(const csvreg_score *scores, size_t n, csvreg_score *mean);

/* csvreg_fit_to_json with the scores of the split `so` as the member
 * "holdout" (n, sum_w, mse, rmse, r_squared, fraction, seed) or "cv" (k,
 * seed, folds, mean_mse, mean_rmse, mean_r_squared). */
CSVREG_API csvreg_status csvreg_fit_to_json_validated(const csvreg_fit *f,
                                                      const csvreg_split_options *so,
                                                      const csvreg_score *scores, size_t nscores,
                                                      char **out, csvreg_error *err);

/* The evaluation sink: the model's predictions of the rows scored against
 * their target (csvreg_evaluator), for a spec bound with
 * CSVREG_MODEL_BIND_TARGET. `arg` is the const csvreg_model *, which must
 * outlive the sink; the sink is a csvreg_scoring. Make the pass's chunks
 * with drop_zero_weight so that rows of weight 0 are counted as such. */
typedef struct csvreg_scoring csvreg_scoring;
CSVREG_API const csvreg_sink_type *csvreg_sink_eval(void);
CSVREG_API void csvreg_scoring_free(csvreg_scoring *s);
/* The metrics and the rows' counts (either may be NULL). */
CSVREG_API void csvreg_scoring_result(const csvreg_scoring *s, csvreg_metrics *m, csvreg_counts *k);

/* ---- eval --every and --plot (issue 16) ----
 * The evaluation sink with options: `arg` of csvreg_sink_eval_with() is a
 * const csvreg_eval_options * (which, and its model, must outlive the sink). */
typedef struct csvreg_eval_options {
  const csvreg_model *model;
  uint64_t every;        /* > 0: also metrics per window of `every` records: window k
                            (from 0) holds data records k*every+1 .. (k+1)*every */
  uint64_t first_record; /* the record number (csvreg_chunk_record_numbers) of the
                            first data record: 2 with a header, 1 without */
  int plot;              /* 1: also the plot summaries (grids and sample) */
  size_t sample;         /* the Q-Q sample's size (0: CSVREG_EVAL_SAMPLE) */
  uint64_t seed;         /* the sample's seed */
} csvreg_eval_options;
#define CSVREG_EVAL_SAMPLE 10000
CSVREG_API const csvreg_sink_type *csvreg_sink_eval_with(void);

/* Windows: the number of windows that hold a record read (csvreg_counts.records
 * of them), and window k's metrics (n = 0 and NaN metrics when no row of it
 * was scored) with its first and last record numbers (csvreg_chunk_record_numbers). */
CSVREG_API uint64_t csvreg_scoring_nwindows(const csvreg_scoring *s);
CSVREG_API void csvreg_scoring_window(const csvreg_scoring *s, uint64_t k, uint64_t *first,
                                      uint64_t *last, csvreg_metrics *m);

/* The plot summaries (unweighted: every scored row counts 1). A grid of exact
 * counts whose bins were chosen as the rows came (src/fit/eval_plot.c): bin
 * (i, j) holds x0 + i dx <= x < x0 + (i + 1) dx and y alike; its count is
 * counts[j * stride + i], i < nx, j < ny; the counts sum to total, the rows
 * scored. Borrowed until the sink is freed. */
typedef struct csvreg_grid {
  size_t nx, ny, stride;
  double x0, dx, y0, dy; /* ny = 1, dy = 0: a histogram */
  const uint64_t *counts;
  uint64_t total;
} csvreg_grid;
#define CSVREG_GRID_ACTUAL 0    /* x: the prediction, y: the actual value */
#define CSVREG_GRID_RESIDUAL 1  /* x: the prediction, y: the residual y - prediction */
#define CSVREG_GRID_HISTOGRAM 2 /* x: the residual */
/* 1 and *out filled, or 0 (no plot summaries, or no rows). */
CSVREG_API int csvreg_scoring_grid(const csvreg_scoring *s, int which, csvreg_grid *out);
/* The sampled residuals: how many (at most the options' sample), and with
 * out != NULL that many into out, ascending. */
CSVREG_API size_t csvreg_scoring_sample(const csvreg_scoring *s, double *out);

/* ---- eval --every in bounded memory (issue 16, ux2) ----
 * Finished windows are kept in a temporary file past a small cap (no name,
 * in $TMPDIR or /tmp: gone when the process ends), so reading one back can
 * fail: csvreg_scoring_window_get says so (CSVREG_E_IO), where
 * csvreg_scoring_window gives the metrics of no rows. Reading ends the
 * pass's adding; one reader at a time. */
CSVREG_API csvreg_status csvreg_scoring_window_get(const csvreg_scoring *s, uint64_t k,
                                                   csvreg_metrics *m, csvreg_error *err);
/* Text out in pieces (not 0-terminated); nonzero stops the writer, which
 * then returns CSVREG_E_IO with the message "write failed". */
typedef int (*csvreg_text_fn)(void *ctx, const char *text, size_t len);
/* Metrics with windows (csvreg_scoring_window) and, with `grids`, the plot's
 * bins as JSON: the object of csvreg_metrics_to_json plus
 * "windows" (an array of {window, first_record, last_record, n, the
 * metrics, n_zero_y}) when the sink has windows, and "plot" ({actual,
 * residual, histogram}: x0, dx, nx, y0, dy, ny, total, counts as ny rows of
 * nx) when `grids`.
 * Written a window at a time, so its memory does not grow with the windows. */
CSVREG_API csvreg_status csvreg_scoring_write_json(const csvreg_scoring *s, const char *target,
                                                   int weighted, int grids, csvreg_text_fn fn,
                                                   void *ctx, csvreg_error *err);
/* ---- end eval --every in bounded memory ---- */
/* ---- end eval --every and --plot ---- */

/* Progress of a pass: bytes of the input read so far, records read, and the
 * input's size (-1 when unknown). Called on the thread that runs the pass,
 * after each chunk on one thread, about every 0.1 s with several. */
typedef void (*csvreg_progress_fn)(void *ctx, uint64_t bytes, uint64_t records, int64_t size);

typedef struct csvreg_pass_options {
  const char *path;                  /* NULL or "-": standard input */
  csvreg_reader_options reader;      /* reader.header: 1 the first record names
                                        the columns, 0 none (V1, V2, ...) */
  const char *columns;               /* names, comma-separated, of an input whose
                                        first record may not be the header (a
                                        Hadoop split): a first record equal to the
                                        names is skipped, any other is data */
  const char *header_line;           /* as columns, the names as a CSV record */
  int has_range;                     /* only the records that start in bytes */
  uint64_t range_start, range_end;   /* [start, end) of a regular file */
  size_t threads;                    /* 0 or 1: one. A regular file is cut in
                                        byte ranges, a stream in blocks */
  size_t chunk_rows;                 /* 0: CSVREG_DEFAULT_CHUNK_ROWS */
  const csvreg_chunk_options *chunk; /* NULL: the defaults with chunk_rows;
                                        else every chunk's options (borrowed
                                        until the pass is freed) */
  size_t block_bytes;                /* a stream's blocks with threads; 0: 1 MiB.
                                        Given, a regular file on standard input
                                        is read as a stream too (else, at its
                                        start and without digest: by ranges) */
  size_t piece_bytes;                /* a regular file with threads and a sink
                                        with CSVREG_SINK_SPECULATE: pieces of
                                        about this many bytes (at least one per
                                        thread), handed out in input order, at
                                        most 2 per thread in flight, so a sink
                                        that holds a piece's output until its
                                        turn (predict) holds little; 0: one
                                        piece per thread */
  csvreg_progress_fn progress;       /* optional */
  void *progress_ctx;
  size_t sample_text;    /* >0: read up to this many first data
                            records (within 256 KiB) ahead and mark
                            the columns holding text (at least half
                            of their non-missing cells are not
                            numbers): csvreg_pass_text_columns */
  const char *sample_na; /* the missing-value tokens for the sample
                            (as csvreg_na_new; NULL: "NA" and "") */
  int open_levels;       /* 1: an accumulator of a formula with categorical
                            variables keeps a column for every level seen
                            (a shard's state, to save and merge with
                            others); csvreg_accum_finish chooses R's
                            columns later. 0 (default): chosen at the end */
  int digest;            /* 1: a stream's bytes (all of them, header
                            included) are digested into
                            csvreg_pass_info.digest (issue 15) */
  /* ---- --skip-bad reports (issue 16) ---- */
  csvreg_bad_row_fn on_bad; /* optional: the rows skip_bad drops, in input
                               order (csvreg_chunk_on_bad); with threads or a
                               range, a piece's rows are kept (bounded memory,
                               then a temporary file) and told when the piece
                               is merged, in order, one call at a time */
  void *on_bad_ctx;
} csvreg_pass_options;

CSVREG_API void csvreg_pass_options_init(csvreg_pass_options *o);

/* What a pass read (its provenance). */
typedef struct csvreg_pass_info {
  const char *source;                  /* the input's name ("<stdin>") */
  int has_range;                       /* a regular file read by byte range: */
  uint64_t range_start, range_end;     /* requested, clamped to the file */
  uint64_t aligned_start, aligned_end; /* the records' bytes */
  int64_t file_size;                   /* -1 for a stream */
  uint64_t header_bytes;               /* the header record's bytes (0: none skipped) */
  uint64_t bytes;                      /* data bytes read (header excluded) */
  uint64_t records;                    /* data records read */
  uint64_t chunks;                     /* chunks that held records */
  size_t workers;                      /* ranges or blocks' threads used (1: plain) */
  int has_digest;                      /* options.digest on a stream: */
  uint64_t digest;                     /* XXH64 of every byte read, in order */
  /* Compressed input (issue 14): the format ("gzip", "zstd", "xz",
   * "bzip2"; NULL: not compressed) and the compressed bytes read. The
   * bytes above are then the decompressed stream's, and a compressed file
   * is read as a stream (no range). */
  const char *compression;
  uint64_t compressed_bytes;
} csvreg_pass_info;

typedef struct csvreg_pass csvreg_pass;

/* With csvreg_pass_options.sample_text: [ncolumns] 1 where at least half
 * of the column's sampled non-missing cells are text (none: 0), valid until
 * the pass is freed; else NULL. For
 * csvreg_spec_options.text_columns. */
CSVREG_API const unsigned char *csvreg_pass_text_columns(const csvreg_pass *p);

/* Opens the input and learns its columns (the header, the given names, or
 * the first record's width). CSVREG_E_USAGE for a range of a stream. */
CSVREG_API csvreg_status csvreg_pass_open(csvreg_pass **out, const csvreg_pass_options *o,
                                          csvreg_error *err);
CSVREG_API void csvreg_pass_free(csvreg_pass *p);

/* Compressed input (issue 14): `st`, a failure met on the pass's header
 * before csvreg_pass_run (its names not what the spec asks for:
 * CSVREG_E_COLUMN, _CSV, _VALUE or _LIMIT), may be the archive's fault: a
 * damaged block decodes to garbled text before its check value is met
 * (bzip2 checks ~900 kB of text at once). The rest of the input is then
 * decoded (the error path only), and a corrupt or truncated archive's
 * CSVREG_E_IO replaces `st` and `err`; else both stand. A pass that ran,
 * or an input that is not compressed: `st`. csvreg_pass_open applies it
 * itself to a header it cannot read. */
CSVREG_API csvreg_status csvreg_pass_blame_input(csvreg_pass *p, csvreg_status st,
                                                 csvreg_error *err);

/* The input's column names (borrowed until the pass is freed). */
CSVREG_API size_t csvreg_pass_ncolumns(const csvreg_pass *p);
CSVREG_API const char *const *csvreg_pass_column_names(const csvreg_pass *p);

/* Reads every record once into a sink of `type` for `spec` (see
 * csvreg_sink_type) and hands it over in *out (free it with type->free).
 * Call once. Errors name the whole input's line and record. */
CSVREG_API csvreg_status csvreg_pass_run(csvreg_pass *p, const csvreg_spec *spec,
                                         const csvreg_sink_type *type, const void *arg, void **out,
                                         csvreg_error *err);

/* Provenance of the pass (valid until it is freed; complete after run). */
CSVREG_API const csvreg_pass_info *csvreg_pass_get_info(const csvreg_pass *p);

/* Where a state's rows came from, as its "meta" member (see
 * csvreg_accum_save): the shard checks of csvreg_stateset_merge read it. */
typedef struct csvreg_provenance {
  const csvreg_pass_info *pass; /* the pass that read the rows */
  const char *shard;            /* the shard's name; NULL: none */
  const char *updated_from;     /* the model the rows were folded into; its
                                   state has no byte provenance then */
  char delimiter;               /* the reader's options, which shards must share */
  int header;
  const char *na;      /* the NA tokens as given; NULL: the defaults */
  const char *weights; /* the weights column; NULL: unweighted */
} csvreg_provenance;

/* The provenance as compact JSON with sorted keys, with `a`'s record count;
 * *out is malloc'd. */
CSVREG_API csvreg_status csvreg_provenance_to_json(const csvreg_provenance *p,
                                                   const csvreg_accum *a, char **out,
                                                   csvreg_error *err);

/* ------------------------------------------------------------------------ */
/* Formulas (R's model language; issue 12 part 1: numeric terms)            */
/* ------------------------------------------------------------------------ */

/* An offset that points at no position of the formula. */
#define CSVREG_NO_OFFSET ((size_t)-1)

/* A spec from an R formula, as lm() reads it: `log(wage) ~ experience +
 * I(experience^2) + education`, `y ~ (a + b + c)^2 - a:b`, `y ~ . - z`,
 * `y ~ poly(x, 3, raw = TRUE) + log(z) - 1`. Terms are named as R names the
 * coefficients and come in R's order. `.` stands for every column but the
 * response's and the weights. o->target and o->features must be NULL (the
 * formula says both); o->weights, o->na and o->skip_bad work as for
 * csvreg_spec_new, and o->intercept = 0 removes the intercept as `- 1` does.
 * A formula of plain columns gives the same spec as the options would; with
 * transforms the chunk computes the design, and a transform that is not
 * finite on a row (log(0), sqrt(-1)) is a CSVREG_E_VALUE naming the line,
 * the column and its value, or with skip_bad drops the row (dropped_bad).
 * Errors: CSVREG_E_USAGE for the formula's syntax and for what is not
 * supported yet (factor(), relevel(): categorical terms; orthogonal poly()),
 * with *where (may be NULL) the byte offset of the offending position
 * (CSVREG_NO_OFFSET when none: see csvreg_formula_caret); CSVREG_E_COLUMN for
 * a column that is not in the header (*where at its first use);
 * CSVREG_E_LIMIT past CSVREG_MAX_TERMS terms. A model of a computed spec
 * (csvreg_model_options.spec) is a version 3 model file holding the formula
 * and its levels. */
CSVREG_API csvreg_status csvreg_spec_new_formula(csvreg_spec **out, const char *const *names,
                                                 size_t ncolumns, const char *formula,
                                                 const csvreg_spec_options *o, size_t *where,
                                                 csvreg_error *err);

/* Writes the formula and under it a caret at byte `offset`, both indented by
 * two spaces ("  y ~ lg(x)\n        ^"; control bytes shown as spaces, UTF-8
 * counted as characters) into buf; returns the length as snprintf does. */
CSVREG_API size_t csvreg_formula_caret(const char *formula, size_t offset, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Digests and replay records (issue 15): no silent loss on engines         */
/* ------------------------------------------------------------------------ */

/* A digest as text: "xxh64:" and 16 lowercase hex digits (XXH64, seed 0).
 * Not cryptographic: it tells a block or a file delivered twice from
 * another, not a forgery. */
#define CSVREG_DIGEST_HEX 23
CSVREG_API void csvreg_digest_format(uint64_t h, char out[CSVREG_DIGEST_HEX]);
CSVREG_API void csvreg_digest_hex(const void *data, size_t len, char out[CSVREG_DIGEST_HEX]);

/* An input that `fit -o` read or `fit --update` folded into a model. A regular file is
 * known by its size and the digests of its first and last MiB (`head`,
 * `tail`: the same text for a file of at most 1 MiB); a stream by its size
 * and the digest of all its bytes (`digest`). Strings are borrowed. */
typedef struct csvreg_fold_record {
  const char *name;   /* as given ("<stdin>" for a stream) */
  uint64_t size;      /* bytes read (a file: its size) */
  const char *head;   /* a file: digest of its first MiB; else NULL */
  const char *tail;   /* a file: digest of its last MiB; else NULL */
  const char *digest; /* a stream: digest of every byte; else NULL */
  uint64_t records;   /* data records read */
} csvreg_fold_record;

/* Number of fold records the model keeps (0 for a model of solve -o, or one
 * written before fit -o recorded its input). */
CSVREG_API size_t csvreg_model_nfolded(const csvreg_model *m);

/* Record i (< csvreg_model_nfolded), strings borrowed until the model is
 * freed. */
CSVREG_API void csvreg_model_get_folded(const csvreg_model *m, size_t i, csvreg_fold_record *out);

/* The index of the first record describing the same input as `r` (the
 * same size and digests; the name is not compared: a file renamed is the
 * same rows), or -1. A file of at most 1 MiB also matches a stream of the
 * same bytes (its head digest is every byte's); a larger one does not. */
CSVREG_API long csvreg_model_find_folded(const csvreg_model *m, const csvreg_fold_record *r);

/* Appends `from`'s records (may be NULL: none) and then `r` (may be NULL)
 * to `m`'s. A model with records saves them under "folded" (covered by its
 * checksum); a model without any is written exactly as before. */
CSVREG_API csvreg_status csvreg_model_add_folded(csvreg_model *m, const csvreg_model *from,
                                                 const csvreg_fold_record *r, csvreg_error *err);

/* ------------------------------------------------------------------------ */
/* Robust covariances: the second pass (issue 13)                           */
/* ------------------------------------------------------------------------ */

/* The coefficients' covariance a fit reports. HC0..HC3 are sandwich's
 * vcovHC(type = ...) for lm (weights as lm(weights=)); cluster is
 * sandwich's vcovCL(cluster = ~ a [+ b], type = "HC1") with its defaults
 * (cadjust = TRUE: G / (G - 1) per clustering, times (N - 1) / (N - k);
 * two columns by Cameron, Gelbach and Miller: V_a + V_b - V_ab, multi0 =
 * FALSE). */
typedef enum csvreg_vcov_type {
  CSVREG_VCOV_CLASSICAL = 0, /* sigma^2 (X'WX)^-1, R's vcov(lm) */
  CSVREG_VCOV_HC0 = 1,
  CSVREG_VCOV_HC1 = 2,
  CSVREG_VCOV_HC2 = 3,
  CSVREG_VCOV_HC3 = 4,
  CSVREG_VCOV_CLUSTER = 5
} csvreg_vcov_type;

/* "classical", "HC0" .. "HC3", "cluster"; parse returns CSVREG_E_USAGE for
 * other names (case matters, as R's type =). */
CSVREG_API const char *csvreg_vcov_name(csvreg_vcov_type t);
CSVREG_API csvreg_status csvreg_vcov_parse(const char *name, csvreg_vcov_type *out);

/* Clusters held per clustering by default: one vector of (kept
 * coefficients) doubles and its key each, so 10^6 clusters of a
 * 10-coefficient model hold about 100 MB. More is CSVREG_E_LIMIT. */
#define CSVREG_DEFAULT_MAX_CLUSTERS 1000000

typedef struct csvreg_robust_options {
  csvreg_vcov_type type; /* HC0..HC3 or cluster (default HC1) */
  const char *clusters;  /* cluster: one or two column names, comma-separated;
                            a cell's text is its cluster (1 and 1.0 differ);
                            a cell that is an NA token is CSVREG_E_VALUE */
  size_t max_clusters;   /* per clustering (and their intersection);
                            default CSVREG_DEFAULT_MAX_CLUSTERS */
} csvreg_robust_options;

CSVREG_API void csvreg_robust_options_init(csvreg_robust_options *o);

/* What the second pass needs of a solved fit: its coefficients, kept
 * columns, and for HC2/HC3 the triangular factor of `a` (the accumulator
 * it was solved from) for the leverages. `fit` and `a` are borrowed and
 * must outlive it. */
typedef struct csvreg_robust csvreg_robust;
CSVREG_API csvreg_status csvreg_robust_new(csvreg_robust **out, const csvreg_fit *fit,
                                           const csvreg_accum *a, const csvreg_robust_options *o,
                                           csvreg_error *err);
CSVREG_API void csvreg_robust_free(csvreg_robust *r);

/* Makes `s`, a spec made as the first pass's (same header, options,
 * formula) and not yet used by a chunk, the second pass's: a formula's
 * categorical variables get the fit's levels (so the design columns are
 * the fit's), and the cluster columns, found in names[0 .. ncolumns) by
 * exact name (CSVREG_E_COLUMN when missing), are read as text keys that
 * drop no row. */
CSVREG_API csvreg_status csvreg_spec_second_pass(csvreg_spec *s, const csvreg_robust *r,
                                                 const char *const *names, size_t ncolumns,
                                                 csvreg_error *err);

/* The meat sink: `arg` is the const csvreg_robust *; the sink is a
 * csvreg_meat holding sum omega_i x_i x_i' (HC) or each cluster's sum of
 * w_i e_i x_i, merged in input order (threads, ranges). */
typedef struct csvreg_meat csvreg_meat;
CSVREG_API const csvreg_sink_type *csvreg_sink_meat(void);
CSVREG_API void csvreg_meat_free(csvreg_meat *m);

/* Replaces the fit's covariance by the sandwich of `m`, the meat of the
 * same rows: standard errors, t and p values and intervals become
 * lmtest::coeftest / coefci's with vcov = V (t on the residual degrees of
 * freedom), and the F test becomes the Wald test of every coefficient but
 * the intercept, lmtest::waldtest(fit, vcov = V, test = "F"). The row
 * counts of the two passes must agree (CSVREG_E_VALUE otherwise: the
 * input changed). */
CSVREG_API csvreg_status csvreg_fit_apply_meat(csvreg_fit *fit, const csvreg_robust *r,
                                               const csvreg_meat *m, csvreg_error *err);

/* The fit's covariance type (its JSON's vcov is that covariance). */
CSVREG_API csvreg_vcov_type csvreg_fit_vcov_type(const csvreg_fit *f);

/* Clusters of a cluster covariance: d = 0, 1 the cluster columns (*name
 * set), d = 2 their intersection (two columns); 0 when there is none. */
CSVREG_API size_t csvreg_fit_clusters(const csvreg_fit *f, size_t d, const char **name);
/* ---- end robust covariances ---- */

/* ---- a model's robust covariance (issue 13, stats2) ---- */

/* Keeps `fit`'s robust covariance (csvreg_fit_apply_meat) in `m`, a model
 * of the same accumulator: saved under "robust", and predict's intervals
 * then use it (the standard error of a fitted value at x is sqrt(x' V x);
 * a prediction interval adds sigma^2 / w, as statsmodels' get_prediction
 * with a robust cov_type, with t on the residual degrees of freedom as
 * lmtest::coefci). A classical fit leaves `m` as it is. */
CSVREG_API csvreg_status csvreg_model_set_vcov(csvreg_model *m, const csvreg_fit *fit,
                                               csvreg_error *err);
/* ---- end a model's robust covariance ---- */

/* ---- a refined model (issue 13) ---- */

/* Keeps the refined coefficients and residual sum of squares of `fit`
 * (csvreg_fit_apply_refine) in `m`, a model of the same accumulator: m's
 * fit becomes that refined fit (predict, eval and a second pass with the
 * model use its coefficients), saved under "refined" with what the
 * refinement did. A fit that was not refined leaves `m` as it is. */
CSVREG_API csvreg_status csvreg_model_set_refined(csvreg_model *m, const csvreg_fit *fit,
                                                  csvreg_error *err);

/* The model's fit made again, a new fit (csvreg_fit_free): its
 * accumulator solved with `o` (NULL: the model's own options; the level
 * may differ, the tolerance should not), its formula and factors, and its
 * refinement when it was refined, so that the coefficients are the
 * model's (a second pass's meat states are of them). */
CSVREG_API csvreg_status csvreg_model_solve(const csvreg_model *m, const csvreg_solve_options *o,
                                            csvreg_fit **out, csvreg_error *err);
/* ---- end a refined model ---- */

/* ---- spilling an input read once (issue 13) ---- */

/* What csvreg_spill_copy did: bytes read and written, and the compression
 * of the copy ("zstd"; NULL: a copy of the bytes as they are). */
typedef struct csvreg_spill_info {
  uint64_t bytes_in, bytes_out;
  const char *compression;
} csvreg_spill_info;

/* Copies all of `in_fd` (standard input; its name for messages `in_name`,
 * NULL: "<stdin>") to `out_fd` (a new file the caller made and removes,
 * named `out_name` in messages), for a run that reads its input more than
 * once. The copy is zstd-compressed (one frame, a fast level) when the
 * library was built with zstd, `mode` is CSVREG_DECOMPRESS_AUTO and the
 * first bytes show plain text; an input compressed already, one the reader
 * refuses (an archive, binary data) and `mode` CSVREG_DECOMPRESS_NONE are
 * copied as they are. Reading the copy with the same `mode` gives the
 * input's bytes either way. CSVREG_E_IO on a read error (source `in_name`)
 * or a write error; `out_fd` is not closed. */
CSVREG_API csvreg_status csvreg_spill_copy(int in_fd, const char *in_name, int out_fd,
                                           const char *out_name, int mode,
                                           csvreg_spill_info *info, csvreg_error *err);
/* ---- end spilling ---- */

/* ---- sharded second pass: meat states (issue 13) ---- */

/* A meat state is one line of JSON, "format": "csvreg-meat" first: the
 * covariance type, the cluster columns, the digest of the model whose
 * residuals it holds ("model": an XXH64 of its coefficients, kept slots
 * and shift), the row counts, the
 * HC meat (upper triangle, exact hex floats) or each cluster's sum (keys
 * as hex of their bytes; two-way: both columns and their intersection),
 * "meta" (source, shard, byte range, digest of a stream, bytes, records,
 * as a pass-1 state's) and a CRC-32 ("checksum"). Meat states merge like
 * accumulator states: clusters by key (the same cluster may be in several
 * shards), in an order fixed by provenance. */
#define CSVREG_MEAT_FORMAT "csvreg-meat"
#define CSVREG_MEAT_VERSION 2

/* The meat `m` (of the meat sink, or merged) as one line (no newline;
 * *out malloc'd) with `meta_json` (a JSON object text, may be NULL) as its
 * "meta". */
CSVREG_API csvreg_status csvreg_meat_save(const csvreg_meat *m, const char *meta_json, char **out,
                                          csvreg_error *err);

/* The provenance of a second pass's meat (*out malloc'd): as
 * csvreg_provenance_to_json's, without input options, with m's records. */
CSVREG_API csvreg_status csvreg_meat_meta(const csvreg_meat *m, const csvreg_pass_info *pass,
                                          const char *shard, char **out, csvreg_error *err);

/* 1 when the line (after blanks and a `key<TAB>` prefix) is a meat state. */
CSVREG_API int csvreg_meat_line(const char *text, size_t len);

/* A set of meat state lines, merged as csvreg_stateset merges states. */
typedef struct csvreg_meatset csvreg_meatset;
CSVREG_API csvreg_status csvreg_meatset_new(csvreg_meatset **out, csvreg_error *err);
CSVREG_API void csvreg_meatset_free(csvreg_meatset *s);
CSVREG_API size_t csvreg_meatset_count(const csvreg_meatset *s);
/* Adds line `line` of `source` (CSVREG_E_FORMAT for a damaged line). */
CSVREG_API csvreg_status csvreg_meatset_add_text(csvreg_meatset *s, const char *text, size_t len,
                                                 const char *source, uint64_t line,
                                                 csvreg_error *err);
/* Checks that the states belong together (another model's digest is
 * CSVREG_E_VALUE; another type or cluster columns CSVREG_E_FORMAT), that
 * no shard came twice (overlapping byte ranges, or streamed blocks of the
 * same digest unless chk->allow_repeat: CSVREG_E_VALUE), the checks of
 * `chk` (may be NULL), and merges them in provenance order into *out, with
 * the merged provenance in *meta_json (may be NULL). */
CSVREG_API csvreg_status csvreg_meatset_merge(csvreg_meatset *s, const csvreg_stateset_checks *chk,
                                              csvreg_meat **out, char **meta_json,
                                              csvreg_error *err);
/* The options a merged meat was made with (type, cluster columns as
 * "a[,b]" borrowed from m, max clusters), for csvreg_robust_new. */
CSVREG_API void csvreg_meat_options(const csvreg_meat *m, csvreg_robust_options *o);
/* Makes a loaded (merged) meat the meat of `r` (built from the model the
 * states name) for csvreg_fit_apply_meat: CSVREG_E_VALUE when the model's
 * digest, or its row counts (a shard missing or twice), differ;
 * CSVREG_E_FORMAT for another type, clusters or rank. */
CSVREG_API csvreg_status csvreg_meat_bind(csvreg_meat *m, const csvreg_robust *r,
                                          csvreg_error *err);
/* ---- end sharded second pass ---- */

/* ------------------------------------------------------------------------ */
/* Iterative refinement: further passes for more digits (issue 13)          */
/* ------------------------------------------------------------------------ */

/* Refinement by the corrected semi-normal equations (Björck): each further
 * pass over the fitted rows sums g = A'W r of the residuals r = y - X b of
 * the current coefficients (products exact, double-double sums, the
 * coefficients kept in double-double), and the correction d solves
 * U'U d = g against the fit's kept triangular factor U; b += d. A step is
 * kept while ||U d|| shrinks and the RSS measured at the new coefficients
 * does not grow. The RSS is recomputed from the same residuals, so standard
 * errors and the statistics that use it follow. Aliased terms stay aliased
 * (NA). The usual loop, with one pass per step:
 *     csvreg_refine_new(&r, fit, acc, CSVREG_DEFAULT_REFINE_STEPS, &err);
 *     while (csvreg_refine_more(r)) {
 *       (a spec made as the first pass's, bound by csvreg_spec_refine_pass,
 *        run through a pass into csvreg_sink_refine() with arg r)
 *       csvreg_refine_step(r, sums, &err); csvreg_refine_sums_free(sums);
 *     }
 *     csvreg_fit_apply_refine(fit, r, &err);                               */
#define CSVREG_DEFAULT_REFINE_STEPS 2
#define CSVREG_MAX_REFINE_STEPS 10

/* Why a refinement stopped. */
typedef enum csvreg_refine_stop {
  CSVREG_REFINE_RUNNING = 0,
  CSVREG_REFINE_CONVERGED = 1, /* the last correction was below 2^-60 of every coefficient */
  CSVREG_REFINE_MAX_STEPS = 2, /* max_steps corrections made */
  CSVREG_REFINE_STALLED = 3,   /* a correction did not shrink: not applied */
  CSVREG_REFINE_DIVERGED = 4   /* a step raised the RSS: undone */
} csvreg_refine_stop;

/* The refinement of `fit`, solved from `a` (both borrowed: they must
 * outlive it), at most max_steps (1 .. CSVREG_MAX_REFINE_STEPS) corrections.
 * Refine before csvreg_fit_apply_meat (CSVREG_E_USAGE after). */
typedef struct csvreg_refine csvreg_refine;
CSVREG_API csvreg_status csvreg_refine_new(csvreg_refine **out, const csvreg_fit *fit,
                                           const csvreg_accum *a, size_t max_steps,
                                           csvreg_error *err);
CSVREG_API void csvreg_refine_free(csvreg_refine *r);
/* 1 while another pass is wanted. */
CSVREG_API int csvreg_refine_more(const csvreg_refine *r);
/* Makes `s` (made as the first pass's, not yet used) give the fit's design
 * columns: a formula's categorical variables get the fit's levels. */
CSVREG_API csvreg_status csvreg_spec_refine_pass(csvreg_spec *s, const csvreg_refine *r,
                                                 csvreg_error *err);

/* One pass's sums at the current coefficients. The sink: `arg` is the
 * csvreg_refine (not changed by the pass), the sink a csvreg_refine_sums,
 * merged in input order. Rows held in memory go in with add_rows (x
 * column-major, n x p with leading dimension ldx, the fit's terms without
 * the intercept; w NULL: unweighted). */
typedef struct csvreg_refine_sums csvreg_refine_sums;
CSVREG_API const csvreg_sink_type *csvreg_sink_refine(void);
CSVREG_API csvreg_status csvreg_refine_sums_new(csvreg_refine_sums **out, const csvreg_refine *r,
                                                csvreg_error *err);
CSVREG_API csvreg_status csvreg_refine_add_rows(csvreg_refine_sums *s, size_t n, const double *x,
                                                size_t ldx, const double *y, const double *w,
                                                csvreg_error *err);
CSVREG_API void csvreg_refine_sums_free(csvreg_refine_sums *s);

/* One step from the sums of a pass over the fit's rows (CSVREG_E_VALUE when
 * it used another number of rows: the input changed). */
CSVREG_API csvreg_status csvreg_refine_step(csvreg_refine *r, const csvreg_refine_sums *s,
                                            csvreg_error *err);

/* The refined coefficients and RSS into the fit, and every statistic of
 * them (SE, t, p, intervals, R^2, F, log-likelihood). The digits estimate
 * becomes that of the refined solution against the input as written: the
 * input's rounding to binary64 (the solve's first-order estimate, u times
 * the condition number, which refinement cannot remove) plus what is left
 * of the iteration (digits_as_read below). */
CSVREG_API csvreg_status csvreg_fit_apply_refine(csvreg_fit *f, const csvreg_refine *r,
                                                 csvreg_error *err);

/* Steps kept (0: not refined), passes read, the estimated correct digits
 * as the exact least-squares solution of the values as read (the last
 * correction times the contraction seen), and why it stopped ("converged",
 * "steps", "stalled", "diverged"); each out pointer may be NULL. */
CSVREG_API size_t csvreg_fit_refined(const csvreg_fit *f, size_t *passes, double *digits_as_read,
                                     const char **stop);
/* ---- end refinement ---- */

/* ---- reading both kinds of state lines (issue 17) ---- */

/* Reads `fd` as csvreg_stateset_read_fd does, handing each meat state line
 * (csvreg_meat_line) to `meat` instead (NULL: every line is an accumulator
 * state). The two kinds may not mix, in one input or across the inputs read
 * into the same sets (CSVREG_E_FORMAT at the first line that mixes them). A
 * meat line may be up to 4 GiB; a line that cannot be JSON text (a control
 * byte, no '{' in its first 64 KiB) fails at once. States read from a
 * regular file are held only while their text totals 64 MiB: later ones
 * are checked, dropped and read again (through a duplicate of `fd`, kept
 * until the set is freed; of the first 64 files at most) one at a time when
 * merged, so a merge holds about one state at a time; the result is the same
 * bits. csvreg_stateset_read_fd does the same with `meat` NULL. */
CSVREG_API csvreg_status csvreg_stateset_read_any_fd(csvreg_stateset *s, csvreg_meatset *meat,
                                                     int fd, const char *source, csvreg_error *err);
/* ---- end reading both kinds ---- */

/* ---- spool: a threaded pass's ordered output (issue 14, predict --threads) ----
 * Bytes kept in order until their turn: a sink of a threaded pass that writes
 * text (predict's rows) spools a piece's text while the pieces before it
 * are still being written, and its merge drains it to the output. Up to
 * `mem` bytes (0: CSVREG_SPOOL_MEM) are kept in memory, the rest in an
 * unnamed temporary file in $TMPDIR (else /tmp; O_TMPFILE, or unlinked at once: nothing is left
 * behind), so memory stays bounded whatever the piece's length. A spool is used by one thread at a
 * time. */
#define CSVREG_SPOOL_MEM ((size_t)4 << 20)
typedef struct csvreg_spool csvreg_spool;
CSVREG_API csvreg_status csvreg_spool_new(csvreg_spool **out, size_t mem, csvreg_error *err);
CSVREG_API void csvreg_spool_free(csvreg_spool *s);
/* Appends n bytes (CSVREG_E_IO when the temporary file cannot be written). */
CSVREG_API csvreg_status csvreg_spool_write(csvreg_spool *s, const void *data, size_t n,
                                            csvreg_error *err);
/* Bytes held, and of them those that went to the temporary file. */
CSVREG_API uint64_t csvreg_spool_bytes(const csvreg_spool *s);
CSVREG_API uint64_t csvreg_spool_spilled(const csvreg_spool *s);
/* The output of a drain: 0, or nonzero when it failed (the drain then
 * stops with CSVREG_E_IO). */
typedef int (*csvreg_spool_fn)(void *ctx, const void *data, size_t n);
/* fn(ctx, ...) over every byte written, in order, in pieces of at most
 * 1 MiB; empties the spool (it can be written again). */
CSVREG_API csvreg_status csvreg_spool_drain(csvreg_spool *s, csvreg_spool_fn fn, void *ctx,
                                            csvreg_error *err);
/* ---- end spool ---- */

/* ---- streaming writers of state lines and model files (issue 17 item 9) ---- */

/* csvreg_accum_save's line (without the line feed) and csvreg_model_save's
 * text written to `fp` as they are made: the same bytes, but neither the
 * text nor a JSON tree of the O(terms^2) numbers is held (fit -o at 2000
 * columns peaked at 618 MB building one). The checksum is computed first,
 * so nothing is written when the state or model cannot be (a name that is
 * not UTF-8, bad metadata, out of memory). CSVREG_E_IO when writing to `fp`
 * fails (its errno in the message); the caller still checks ferror and
 * fclose. */
CSVREG_API csvreg_status csvreg_accum_write(const csvreg_accum *a, const char *meta_json, FILE *fp,
                                            csvreg_error *err);
CSVREG_API csvreg_status csvreg_model_write(const csvreg_model *m, FILE *fp, csvreg_error *err);
/* ---- end streaming writers ---- */

#ifdef __cplusplus
}
#endif

#endif /* CSVREG_H */
