/*
 * json_mem.h - telling jansson's out-of-memory from bad input or bad names.
 */
#ifndef CSVREG_JSON_MEM_H
#define CSVREG_JSON_MEM_H

#include "csvreg.h"

/* Failed jansson allocations made by this thread so far: the mark to give
 * csvreg__json_mem_check after the JSON work. The first call chains a counting
 * allocator in front of jansson's current one. */
unsigned long csvreg__json_mem_failures(void);

/* `st`, or CSVREG_E_NOMEM with "out of memory" in `err` when jansson failed
 * to allocate in this thread since `mark` (csvreg__json_mem_failures() before). */
csvreg_status csvreg__json_mem_check(unsigned long mark, csvreg_status st, csvreg_error *err);

#endif
