/*
 * pass_internal.h - what tests may see of a pass beyond csvreg.h (private
 * to the library).
 */
#ifndef CSVREG_PASS_INTERNAL_H
#define CSVREG_PASS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "csvreg.h"

/* Pieces of a run whose speculative start (a byte range's piece starting at
 * the first line end after its cut, pass.c) proved wrong or failed and were
 * read again from the end of the piece before them. */
size_t csvreg__pass_spec_redone(const csvreg_pass *p);

/* Bytes a lone byte range (--range, one thread) scanned from the data's
 * start to find its start (0 when its guessed start stood, lone_guess). */
uint64_t csvreg__pass_start_scanned(const csvreg_pass *p);

/* 1 when the pass reads its input by byte ranges (a regular file with
 * threads or a range, standard input that is one: stdin_ranges in pass.c),
 * 0 for one reader or stream blocks. */
int csvreg__pass_reads_ranges(const csvreg_pass *p);

/* Bytes csvreg_pass_open read before the data (the header and the text
 * sample, sample_text): the sample stops once it holds its records. */
uint64_t csvreg__pass_sniffed(const csvreg_pass *p);

#endif
