/*
 * json_str.h - JSON strings from bytes that may not be UTF-8 (json_str.c).
 */
#ifndef CSVREG_JSON_STR_H
#define CSVREG_JSON_STR_H

#include <jansson.h>

/* jansson insists on UTF-8: a string in another encoding keeps its ASCII
 * bytes and shows '?' for the others. NULL only when out of memory (or s is
 * NULL). */
json_t *csvreg__json_str(const char *s);

#endif
