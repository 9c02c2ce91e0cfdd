/*
 * test_reader.c - the CSV reader: exact fields, line and record numbers and
 * errors for each RFC 4180 case, every case checked through the fast path and
 * through libcsv alone with read sizes 1..64 bytes and the default, so that
 * records straddle buffer boundaries at every offset.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "csvreg.h"
#include "reader_dump.h"

/* Parses `len` bytes with both paths and every small buffer size; each parse
 * must render exactly as `expected`. */
static void check_opts(const char *data, size_t len, int header, size_t max_record,
                       const char *expected) {
  for (int force = 0; force <= 1; force++) {
    for (size_t b = 0; b <= 64; b++) {
      csvreg_reader_options o;
      csvreg_reader_options_init(&o);
      o.header = header;
      o.force_libcsv = force;
      o.buffer_bytes = b;
      o.max_record_bytes = max_record;
      char *got = dump_parse(data, len, &o, 1);
      if (strcmp(got, expected) != 0) {
        print_error("force_libcsv=%d buffer_bytes=%zu\n--- expected\n%s--- got\n%s", force, b,
                    expected, got);
        free(got);
        fail();
      }
      free(got);
    }
  }
}

#define CHECK(lit, expected) check_opts(lit, sizeof(lit) - 1, 1, 0, expected)
#define CHECK_MAX(lit, max, expected) check_opts(lit, sizeof(lit) - 1, 1, max, expected)
#define CHECK_NOHEADER(lit, expected) check_opts(lit, sizeof(lit) - 1, 0, 0, expected)

static void test_plain(void **state) {
  (void)state;
  CHECK("a,b\n1,2\n3,4\n", "names:[a][b]\nL2 N2 [1][2]\nL3 N3 [3][4]\nEND\n");
  CHECK("a,b\n1,2\n3,4", "names:[a][b]\nL2 N2 [1][2]\nL3 N3 [3][4]\nEND\n");
  CHECK("x\n-12.3456\n", "names:[x]\nL2 N2 [-12.3456]\nEND\n");
}

static void test_line_ends(void **state) {
  (void)state;
  CHECK("a,b\r\n1,2\r\n3,4\r\n", "names:[a][b]\nL2 N2 [1][2]\nL3 N3 [3][4]\nEND\n");
  CHECK("a,b\r\n1,2\r\n3,4\r", "names:[a][b]\nL2 N2 [1][2]\nL3 N3 [3][4]\nEND\n");
  /* a lone CR ends a record and a line */
  CHECK("a,b\r1,2\r3,4", "names:[a][b]\nL2 N2 [1][2]\nL3 N3 [3][4]\nEND\n");
  CHECK("a\n1\r2\n3\r\r\n4\n", "names:[a]\nL2 N2 [1]\nL3 N3 [2]\nL4 N4 [3]\nL6 N5 [4]\nEND\n");
  /* CR LF CR: two line ends */
  CHECK("a\r\n\r1\n", "names:[a]\nL3 N2 [1]\nEND\n");
}

static void test_empty_lines(void **state) {
  (void)state;
  CHECK("a\n\n\r\n1\n\n2", "names:[a]\nL4 N2 [1]\nL6 N3 [2]\nEND\n");
  CHECK("\n\na\n1\n\n", "names:[a]\nL4 N2 [1]\nEND\n");
  CHECK("\r\r\ra\r\r1", "names:[a]\nL6 N2 [1]\nEND\n");
}

static void test_quoted(void **state) {
  (void)state;
  CHECK("a,b\n\"x,y\",\"he said \"\"hi\"\"\"\n\"multi\nline\r\nfield\",z\n3,4\n",
        "names:[a][b]\nL2 N2 [x,y][he said \"hi\"]\nL3 N3 [multi\\x0aline\\x0d\\x0afield][z]\n"
        "L6 N4 [3][4]\nEND\n");
  /* quoted empty field, quoted CR alone, quote in the header */
  CHECK("\"h 1\",h2\n\"\",\"\r\"\n", "names:[h 1][h2]\nL2 N2 [][\\x0d]\nEND\n");
  /* a quote inside an unquoted field is data (libcsv without CSV_STRICT) */
  CHECK("a\nx\"y\n", "names:[a]\nL2 N2 [x\"y]\nEND\n");
  /* text after a closing quote joins the field, which stays quoted */
  CHECK("a,b\n\"ab\"c,d\",e\n", "names:[a][b]\nL2 N2 [ab\"c,d][e]\nEND\n");
  /* the record after a quoted field with two newlines starts on line 5 */
  CHECK("h\n\"a\n\nb\"\n1\n", "names:[h]\nL2 N2 [a\\x0a\\x0ab]\nL5 N3 [1]\nEND\n");
}

/* Lines whose quotes are all well-formed quoted fields (the fast path splits
 * them itself) and their near misses (which go to libcsv): the same fields
 * either way. */
static void test_quoted_fields(void **state) {
  (void)state;
  /* no doubled quote: first, middle and last field, delimiters inside */
  CHECK("a,b,c\n\"x,y\",1,\"z\"\n\"\",\",\",\"\"\n",
        "names:[a][b][c]\nL2 N2 [x,y][1][z]\nL3 N3 [][,][]\nEND\n");
  /* doubled quotes, several in one record (all valid at once), CRLF */
  CHECK("a,n,b,c\r\n1,\"O\"\"Brien, Pat\",\"3\"\" pipe, 2\"\" bolt\",\"\"\"\"\r\n"
        "\"\"\"x\"\"\",2,\"\"\"\"\"\",\"a\"\"\"\"b\"\r\n",
        "names:[a][n][b][c]\nL2 N2 [1][O\"Brien, Pat][3\" pipe, 2\" bolt][\"]\n"
        "L3 N3 [\"x\"][2][\"\"][a\"\"b]\nEND\n");
  /* a quoted header, a quoted field alone, the last line without LF */
  CHECK("\"h,1\"\n\"v\"\"\"\n\"w\"", "names:[h,1]\nL2 N2 [v\"]\nL3 N3 [w]\nEND\n");
  /* a line of one empty quoted field is a record, unlike an empty line */
  CHECK("h\n\"\"\n\n\"\"\r\n", "names:[h]\nL2 N2 []\nL4 N3 []\nEND\n");
  /* near misses: a quote inside an unquoted field, text or a space after a
   * closing quote (the quote is data, the field goes on), a space before an
   * opening one */
  CHECK("a,b\n1,x\"\"y\n\"a\"b\",2\n\"a\" \",3\n \"a\",4\n",
        "names:[a][b]\nL2 N2 [1][x\"\"y]\nL3 N3 [a\"b][2]\nL4 N4 [a\" ][3]\n"
        "L5 N5 [ \"a\"][4]\nEND\n");
  /* an odd number of quotes: the field goes on to the next line */
  CHECK("a,b\n1,\"x\"\"\n\",2\n3,\"\n\"\n",
        "names:[a][b]\nL2 N2 [1][x\"\\x0a][2]\nL4 N3 [3][\\x0a]\nEND\n");
  /* a CR inside a quoted field, a CR before a closing quote */
  CHECK("a,b\n\"x\ry\",1\n\"z\r\"\n2,\"\"\n",
        "names:[a][b]\nL2 N2 [x\\x0dy][1]\nL4 N3 [z\\x0d]\nL6 N4 [2][]\nEND\n");
  /* other delimiters */
  csvreg_reader_options o;
  csvreg_reader_options_init(&o);
  o.delimiter = ';';
  static const char semi[] = "a;b\n\"1;\"\"5\";\"x,y\"\n";
  for (size_t b = 0; b <= 64; b += 8) {
    o.buffer_bytes = b;
    char *got = dump_parse(semi, sizeof semi - 1, &o, 1);
    assert_string_equal(got, "names:[a][b]\nL2 N2 [1;\"5][x,y]\nEND\n");
    free(got);
  }
}

/* The scratch buffer of unescaped fields holds the whole record: each
 * field's pointer stays valid until the next call, however many there are. */
static void test_quoted_scratch(void **state) {
  (void)state;
  char data[4096];
  size_t len = 0;
  len += (size_t)sprintf(data + len, "h\n");
  for (int i = 0; i < 100; i++)
    len += (size_t)sprintf(data + len, "%s\"%d%.*s\"", i ? "," : "", i, 2 + 2 * (i % 3),
                           "\"\"\"\"\"\"");
  len += (size_t)sprintf(data + len, "\nx,\"y\"\"\"\n");
  for (int force = 0; force <= 1; force++) {
    csvreg_reader_options o;
    csvreg_reader_options_init(&o);
    o.force_libcsv = force;
    csvreg_reader *r;
    csvreg_error err;
    csvreg_record rec;
    assert_int_equal(csvreg_reader_open_mem(&r, data, len, "q", &o, &err), CSVREG_OK);
    assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
    assert_int_equal(rec.nfields, 100);
    for (int i = 0; i < 100; i++) {
      char want[64];
      int n = snprintf(want, sizeof want, "%d%.*s", i, 1 + i % 3, "\"\"\"");
      assert_int_equal(rec.fields[i].len, (size_t)n);
      assert_memory_equal(rec.fields[i].ptr, want, (size_t)n);
    }
    assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
    assert_int_equal(rec.nfields, 2);
    assert_int_equal(rec.line, 3);
    assert_int_equal(rec.fields[1].len, 2);
    assert_memory_equal(rec.fields[1].ptr, "y\"", 2);
    assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_END);
    csvreg_reader_free(r);
  }
}

static void test_unterminated(void **state) {
  (void)state;
  CHECK("h\n\"a\n\nb\"\n\"c\nd\n", "names:[h]\nL2 N2 [a\\x0a\\x0ab]\n"
                                   "ERR 5 L5 R3 unterminated quoted field (opened on line 5)\n");
  CHECK("h,i\n1,\"x\n\n",
        "names:[h][i]\nERR 5 L2 R2 unterminated quoted field (opened on line 2)\n");
  CHECK("h,i\n1,\"x\"\"\r\n",
        "names:[h][i]\nERR 5 L2 R2 unterminated quoted field (opened on line 2)\n");
  CHECK("\"h", "ERR 5 L1 R1 unterminated quoted field (opened on line 1)\n");
  /* the field opened on a later line than its record */
  CHECK("h,i\n\"a\nb\",\"c\n",
        "names:[h][i]\nERR 5 L2 R2 unterminated quoted field (opened on line 3)\n");
  /* a closing quote at the very end is fine */
  CHECK("h\n\"a\"", "names:[h]\nL2 N2 [a]\nEND\n");
}

static void test_nul_empty_spaces(void **state) {
  (void)state;
  CHECK("a\n1\0002,\0\n", "names:[a]\nL2 N2 [1\\x002][\\x00]\nEND\n");
  CHECK("a,b\n,\n,,\n\n", "names:[a][b]\nL2 N2 [][]\nL3 N3 [][][]\nEND\n");
  CHECK("a,b\n1,", "names:[a][b]\nL2 N2 [1][]\nEND\n");
  CHECK(" a , b \n 1,\t2 \n", "names:[ a ][ b ]\nL2 N2 [ 1][\\x092 ]\nEND\n");
  CHECK("a\n \n", "names:[a]\nL2 N2 [ ]\nEND\n");
}

static void test_bom(void **state) {
  (void)state;
  CHECK("\xEF\xBB\xBFx,y\n1,2\n", "names:[x][y]\nL2 N2 [1][2]\nEND\n");
  CHECK("\xEF\xBB\xBF\"x\",y\n", "names:[x][y]\nEND\n");
  /* only at the very start */
  CHECK("a\n\xEF\xBB\xBF\n", "names:[a]\nL2 N2 [\\xef\\xbb\\xbf]\nEND\n");
  CHECK("\xEF\xBB", "names:[\\xef\\xbb]\nEND\n");
  CHECK("\xEF\xBB\xBF", "ERR 5 L1 R1 empty input: no header\n");
}

static void test_header(void **state) {
  (void)state;
  CHECK_NOHEADER("1,2\n3,4\n", "names:[V1][V2]\nL1 N1 [1][2]\nL2 N2 [3][4]\nEND\n");
  CHECK_NOHEADER("\n\"1\n\",2,3", "names:[V1][V2][V3]\nL2 N1 [1\\x0a][2][3]\nEND\n");
  CHECK_NOHEADER("", "names:\nEND\n");
  CHECK_NOHEADER("\r\n\n", "names:\nEND\n");
  CHECK("", "ERR 5 L1 R1 empty input: no header\n");
  CHECK("\n\n", "ERR 5 L3 R1 empty input: no header\n");
}

static void test_record_limit(void **state) {
  (void)state;
  /* 10 bytes are fine, 11 are not; the line ends do not count */
  CHECK_MAX("a\r\n0123456789\r\n01234567890\n", 10,
            "names:[a]\nL2 N2 [0123456789]\n"
            "ERR 9 L3 R3 record starting on line 3 is longer than 10 bytes\n");
  /* quotes and quoted line ends count: the input bytes of the record */
  CHECK_MAX("a\n\"0123456\n89\"\n\"0123456\n\n99\"\n", 12,
            "names:[a]\nL2 N2 [0123456\\x0a89]\n"
            "ERR 9 L4 R3 record starting on line 4 is longer than 12 bytes\n");
  /* well-formed quoted fields count their quotes too */
  CHECK_MAX("a\n\"0\"\"23\",\"\"\n\"0\"\"23\",\"\"\"\"\n", 10,
            "names:[a]\nL2 N2 [0\"23][]\n"
            "ERR 9 L3 R3 record starting on line 3 is longer than 10 bytes\n");
  /* an unterminated quote that is also too long: the limit comes first */
  CHECK_MAX("a\n\"0123456789abc", 10,
            "names:[a]\nERR 9 L2 R2 record starting on line 2 is longer than 10 bytes\n");
}

static void test_fields_limit(void **state) {
  (void)state;
  /* a header of exactly the limit, then a record one field wider; when q,
   * both lines start with an empty quoted field (the fast path's split) */
  size_t n = CSVREG_MAX_FIELDS;
  char *data = malloc(2 * n + 5);
  assert_non_null(data);
  for (int fq = 0; fq <= 3; fq++) {
    int force = fq & 1, q = fq >> 1;
    size_t len = 2 * n + 1 + 4 * (size_t)q;
    memset(data, ',', len);
    data[n - 1 + 2 * (size_t)q] = '\n';
    data[len - 1] = '\n';
    if (q) {
      memcpy(data, "\"\"", 2);
      memcpy(data + n + 2, "\"\"", 2);
    }
    csvreg_reader_options o;
    csvreg_reader_options_init(&o);
    o.force_libcsv = force;
    o.buffer_bytes = 4096;
    csvreg_reader *r;
    csvreg_error err;
    csvreg_record rec;
    assert_int_equal(csvreg_reader_open_mem(&r, data, len, "w", &o, &err), CSVREG_OK);
    assert_int_equal(csvreg_reader_ncolumns(r), CSVREG_MAX_FIELDS);
    assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_E_LIMIT);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.record, 2);
    assert_string_equal(err.source, "w");
    assert_string_equal(err.message, "record starting on line 2 has more than 1048576 fields");
    /* the error is sticky */
    csvreg_error_clear(&err);
    assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_E_LIMIT);
    assert_int_equal(err.line, 2);
    csvreg_reader_free(r);
  }
  free(data);
}

/* Long records across many reads: a 3 MB plain line and a 3 MB quoted one. */
static void test_long_records(void **state) {
  (void)state;
  size_t n = 3000000;
  char *data = malloc(2 * n + 64);
  assert_non_null(data);
  size_t len = 0;
  memcpy(data, "a,b\n", 4);
  len = 4;
  memset(data + len, 'x', n);
  len += n;
  memcpy(data + len, ",1\n\"", 4);
  len += 4;
  memset(data + len, 'y', n);
  data[len + 10] = '\n';
  len += n;
  memcpy(data + len, "\",2\n", 4);
  len += 4;
  for (int force = 0; force <= 1; force++)
    for (size_t b = 1; b <= 1u << 20; b *= 64) {
      csvreg_reader_options o;
      csvreg_reader_options_init(&o);
      o.force_libcsv = force;
      o.buffer_bytes = b == 1 ? 4093 : b;
      csvreg_reader *r;
      csvreg_error err;
      csvreg_record rec;
      assert_int_equal(csvreg_reader_open_mem(&r, data, len, "long", &o, &err), CSVREG_OK);
      assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
      assert_int_equal(rec.nfields, 2);
      assert_int_equal(rec.fields[0].len, n);
      assert_int_equal(rec.fields[0].ptr[n - 1], 'x');
      assert_int_equal(rec.line, 2);
      assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
      assert_int_equal(rec.fields[0].len, n);
      assert_int_equal(rec.fields[0].ptr[10], '\n');
      assert_memory_equal(rec.fields[1].ptr, "2", 1);
      assert_int_equal(rec.line, 3);
      assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_END);
      assert_int_equal(csvreg_reader_bytes(r), len);
      csvreg_reader_free(r);
      /* the same with a limit just below the first record */
      o.max_record_bytes = n + 1;
      assert_int_equal(csvreg_reader_open_mem(&r, data, len, "long", &o, &err), CSVREG_OK);
      assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_E_LIMIT);
      assert_int_equal(err.line, 2);
      csvreg_reader_free(r);
    }
  free(data);
}

static void test_delimiters(void **state) {
  (void)state;
  csvreg_reader_options o;
  csvreg_reader_options_init(&o);
  assert_int_equal(o.delimiter, ',');
  assert_int_equal(o.header, 1);
  o.delimiter = ';';
  static const char semi[] = "a;b\n1,5;\"x;y\"\n", tab[] = "a\tb\n 1\t\t\n";
  char *got = dump_parse(semi, sizeof semi - 1, &o, 1);
  assert_string_equal(got, "names:[a][b]\nL2 N2 [1,5][x;y]\nEND\n");
  free(got);
  o.delimiter = '\t';
  got = dump_parse(tab, sizeof tab - 1, &o, 1);
  assert_string_equal(got, "names:[a][b]\nL2 N2 [ 1][][]\nEND\n");
  free(got);
  o.delimiter = '"';
  csvreg_reader *r = (csvreg_reader *)&o;
  csvreg_error err;
  assert_int_equal(csvreg_reader_open_mem(&r, "a", 1, "m", &o, &err), CSVREG_E_USAGE);
  assert_null(r);
  assert_string_equal(err.message, "the delimiter cannot be a quote, CR or LF");
}

static const char *const file_data = "x,y\n1,2\n\"3\",4\n";

static void test_file(void **state) {
  (void)state;
  char path[] = "/tmp/csvreg_test_readerXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, file_data, strlen(file_data)), (ssize_t)strlen(file_data));
  close(fd);
  csvreg_reader *r;
  csvreg_error err;
  csvreg_record rec;
  assert_int_equal(csvreg_reader_open(&r, path, NULL, &err), CSVREG_OK);
  assert_string_equal(csvreg_reader_source(r), path);
  assert_int_equal(csvreg_reader_size(r), (int64_t)strlen(file_data));
  assert_int_equal(csvreg_reader_ncolumns(r), 2);
  assert_string_equal(csvreg_reader_column_names(r)[1], "y");
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
  assert_memory_equal(rec.fields[0].ptr, "3", 1);
  assert_int_equal(rec.number, 3);
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_END);
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_END);
  assert_int_equal(csvreg_reader_bytes(r), strlen(file_data));
  csvreg_reader_free(r);

  /* open_fd leaves the descriptor open */
  fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(csvreg_reader_open_fd(&r, fd, "named", NULL, &err), CSVREG_OK);
  assert_string_equal(csvreg_reader_source(r), "named");
  csvreg_reader_free(r);
  assert_int_not_equal(fcntl(fd, F_GETFD), -1);
  close(fd);
  unlink(path);

  csvreg_error_clear(&err);
  r = (csvreg_reader *)&err;
  assert_int_equal(csvreg_reader_open(&r, path, NULL, &err), CSVREG_E_IO);
  assert_null(r);
  assert_int_equal(err.status, CSVREG_E_IO);
  assert_string_equal(err.source, path);
  char want[300];
  snprintf(want, sizeof want, "cannot open: %s", strerror(ENOENT));
  assert_string_equal(err.message, want);
  csvreg_reader_free(NULL);
}

/* A pipe as standard input: short reads, no size. */
static void test_pipe_stdin(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    const char *parts[] = {"\xEF\xBB",
                           "\xBF"
                           "a,b\r",
                           "\n1,\"x", "\ny\"\n", "2,3"};
    for (size_t i = 0; i < 5; i++) {
      if (write(p[1], parts[i], strlen(parts[i])) < 0)
        _exit(1);
      nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    _exit(0);
  }
  close(p[1]);
  int saved = dup(0);
  assert_true(saved >= 0);
  assert_int_equal(dup2(p[0], 0), 0);
  close(p[0]);
  csvreg_reader *r;
  csvreg_error err;
  csvreg_record rec;
  assert_int_equal(csvreg_reader_open(&r, "-", NULL, &err), CSVREG_OK);
  assert_string_equal(csvreg_reader_source(r), "<stdin>");
  assert_int_equal(csvreg_reader_size(r), -1);
  assert_string_equal(csvreg_reader_column_names(r)[0], "a");
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
  assert_int_equal(rec.line, 2);
  assert_int_equal(rec.fields[1].len, 3);
  assert_memory_equal(rec.fields[1].ptr, "x\ny", 3);
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_OK);
  assert_int_equal(rec.line, 4);
  assert_int_equal(rec.nfields, 2);
  assert_memory_equal(rec.fields[1].ptr, "3", 1);
  assert_int_equal(csvreg_reader_next(r, &rec, &err), CSVREG_END);
  csvreg_reader_free(r);
  assert_int_equal(dup2(saved, 0), 0);
  close(saved);
  int status;
  waitpid(pid, &status, 0);
}

static void test_read_error(void **state) {
  (void)state;
  int fd = open("/tmp", O_RDONLY); /* read() on a directory fails with EISDIR */
  assert_true(fd >= 0);
  csvreg_reader *r;
  csvreg_error err;
  assert_int_equal(csvreg_reader_open_fd(&r, fd, "dir", NULL, &err), CSVREG_E_IO);
  assert_null(r);
  char want[300];
  snprintf(want, sizeof want, "read failed: %s", strerror(EISDIR));
  assert_string_equal(err.message, want);
  assert_string_equal(err.source, "dir");
  assert_int_equal(err.line, 1);
  assert_int_equal(err.record, 1);
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain),         cmocka_unit_test(test_line_ends),
      cmocka_unit_test(test_empty_lines),   cmocka_unit_test(test_quoted),
      cmocka_unit_test(test_quoted_fields), cmocka_unit_test(test_quoted_scratch),
      cmocka_unit_test(test_unterminated),  cmocka_unit_test(test_nul_empty_spaces),
      cmocka_unit_test(test_bom),           cmocka_unit_test(test_header),
      cmocka_unit_test(test_record_limit),  cmocka_unit_test(test_fields_limit),
      cmocka_unit_test(test_long_records),  cmocka_unit_test(test_delimiters),
      cmocka_unit_test(test_file),          cmocka_unit_test(test_pipe_stdin),
      cmocka_unit_test(test_read_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
