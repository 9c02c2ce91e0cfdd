/*
 * internal.h - helpers shared by the library's modules; not installed.
 */
#ifndef CSVREG_INTERNAL_H
#define CSVREG_INTERNAL_H

#include "csvreg.h"

#if defined(__GNUC__)
#define CSVREG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CSVREG_PRINTF(a, b)
#endif

/* Fills `err` (when not NULL) with status and message and returns status.
 * Source, line and column are left as they are; set them with csvreg__err_at. */
csvreg_status csvreg__err_set(csvreg_error *err, csvreg_status st, const char *fmt, ...)
    CSVREG_PRINTF(3, 4);

/* Records where an error happened: source (may be NULL), physical line,
 * record number, 1-based column (0: none) and its name (may be NULL). */
void csvreg__err_at(csvreg_error *err, const char *source, uint64_t line, uint64_t record,
                    size_t column, const char *column_name);

/* Copies up to `max` bytes of `s` into `dst` (size `size`) for messages,
 * escaping control bytes and quotes and marking truncation with "...". */
void csvreg__err_quote(char *dst, size_t size, const char *s, size_t len, size_t max);

/* strdup that returns NULL on failure (C11 has none). */
char *csvreg__xstrdup(const char *s);

/* 1 when the AVX2 versions of the hot loops may run (src/util/simd.c). */
int csvreg__simd_avx2(void);

/* Bytes of input that csvreg__reader_slack promises after the last record. */
#define READER_SLACK 16

/* 1 when every field of the record csvreg_reader_next returned last lies in
 * one buffer that holds at least READER_SLACK more bytes of input after the
 * record's end: a field's first 9 bytes may be loaded as one word even when
 * it is shorter (the chunk's number lanes do). 0 otherwise. */
int csvreg__reader_slack(const csvreg_reader *r);

/* csvreg__simd_avx2() as it was when the reader was opened (csvreg__cells_for). */
int csvreg__reader_avx2(const csvreg_reader *r);

#endif
