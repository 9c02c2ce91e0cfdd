/*
 * cells.h - a record's cells to doubles by the number parser's short path
 * (cells.c): the chunk's inner loop, and csvreg_record_parse_cells for the
 * programs that read records themselves (predict, eval). Internal.
 */
#ifndef CSVREG_CELLS_H
#define CSVREG_CELLS_H

#include "csvreg.h"

/* Parses cells k.. (fields[cols[k]], ...) into vals[k * stride], ... until
 * one is not a short plain number ([-]digits[.digits], at most 8 digits);
 * returns that cell's index, or n when all were. Each value is bit for bit
 * what csvreg_parse_double gives. */
typedef size_t (*cells_fn)(const csvreg_field *fields, const size_t *cols, size_t k, size_t n,
                           double *vals, size_t stride);

/* The version for the record `r` returned last: four cells at a time when
 * the reader was opened with AVX2 (csvreg__simd_avx2), each field loaded as one word
 * when the record has csvreg__reader_slack. The one place that choice is made. */
cells_fn csvreg__cells_for(const csvreg_reader *r);

#endif
