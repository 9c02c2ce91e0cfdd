/*
 * json_head.h - how long a state line or model text can be, judged from its
 * first bytes as they arrive (json_head.c).
 */
#ifndef CSVREG_JSON_HEAD_H
#define CSVREG_JSON_HEAD_H

#include <stddef.h>

#define JHEAD_STACK 32 /* containers tracked; deeper ones are only counted */
#define JHEAD_KEY 8    /* key bytes kept: the keys looked for are shorter */

/* A lexer fed a text's bytes in order. It follows strings, containers and
 * object keys (no tree, O(1) memory) to count the elements of one array at a
 * fixed path (a model's "spec"."terms"), if any. */
typedef struct csvreg__jhead {
  const char *path[2]; /* the keys leading to the array counted */
  size_t npath;
  size_t fed;            /* bytes fed */
  int bad;               /* not JSON text: a control byte, or a stray byte */
  const char *why;       /* what, when bad */
  size_t bad_at;         /* its byte offset (0-based) */
  int started, in_str, esc, key_str;
  size_t depth;
  unsigned char obj[JHEAD_STACK];   /* 1: object, 0: array */
  unsigned char match[JHEAD_STACK]; /* the container is path[0..depth) */
  unsigned char want_key[JHEAD_STACK];
  char key[JHEAD_KEY + 1];
  size_t klen; /* JHEAD_KEY + 1: longer than kept */
  int key_ok;  /* the last key at this level matches the path's next */
  int counting, seen_value;
  size_t count; /* elements of the array so far */
  int done;     /* the array closed: count is final */
  size_t done_at; /* bytes fed when it closed */
} csvreg__jhead;

/* Starts a lexer looking for the array at keys path[0..npath). */
void csvreg__jhead_init(csvreg__jhead *h, const char *const *path, size_t npath);

/* Feeds bytes (in order, after the ones fed before). */
void csvreg__jhead_feed(csvreg__jhead *h, const char *p, size_t n);

#endif
