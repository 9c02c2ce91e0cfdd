/*
 * json_str.c - a JSON string from a C string that may not be UTF-8 (a column
 * name or a path in another encoding), shared by the JSON writers.
 */
#include <stdlib.h>

#include "internal.h"
#include "json_str.h"

json_t *csvreg__json_str(const char *s) {
  json_t *v = json_string(s);
  if (v || !s)
    return v;
  char *copy = csvreg__xstrdup(s);
  if (!copy)
    return NULL;
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  v = json_string(copy);
  free(copy);
  return v;
}
