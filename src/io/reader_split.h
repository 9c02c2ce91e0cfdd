/*
 * reader_split.h - the body of reader.c's plain-line splitter, included there
 * once per instruction set with SPLIT_FN (its name), SPLIT_ATTR (its target
 * attribute) and SPLIT_MASKS (the 64-byte delimiter/LF scan) defined; not a
 * header of its own.
 *
 * Splits the bytes from `pos` at the delimiter, up to the first LF or `end`,
 * whichever comes first, and returns that position. Every field but the last
 * is stored in r->fields (*n_out of them); the last one starts at *last. Past
 * CSVREG_MAX_FIELDS it stops storing and reports SPLIT_WIDE in *st. The field
 * array and its count stay in locals (stores through r->fields could alias
 * *r), so a field costs about ten instructions. The buffer has PAD spare
 * bytes, so the last loads stay inside it.
 */
SPLIT_ATTR static size_t SPLIT_FN(csvreg_reader *r, size_t pos, size_t *n_out, size_t *last,
                                  int *st) {
  const char *b = r->buf, *start = b + pos;
  size_t i = pos, n = 0, end = r->end, cap = r->fields_cap;
  csvreg_field *f = r->fields;
  const char delim = r->delim;
  *st = SPLIT_OK;
  for (; i < end; i += 64) {
    if (n + 64 > cap) {
      if (n >= CSVREG_MAX_FIELDS) {
        *st = SPLIT_WIDE;
        const char *lf = memchr(b + i, '\n', end - i);
        return lf ? (size_t)(lf - b) : end;
      }
      if (ensure_fields(r, n + 64) != 0) {
        *st = SPLIT_NOMEM;
        return end;
      }
      f = r->fields;
      cap = r->fields_cap;
    }
    const char *blk = b + i;
    uint64_t md, ml;
    SPLIT_MASKS(blk, delim, &md, &ml);
    if (end - i < 64) {
      uint64_t keep = ((uint64_t)1 << (end - i)) - 1;
      md &= keep;
      ml &= keep;
    }
    if (ml)
      md &= (ml & -ml) - 1; /* the delimiters before the first LF */
    while (md) {
      const char *d = blk + (unsigned)__builtin_ctzll(md);
      md &= md - 1;
      f[n].ptr = start;
      f[n].len = (size_t)(d - start);
      n++;
      start = d + 1;
    }
    if (ml) {
      *n_out = n;
      *last = (size_t)(start - b);
      return i + (unsigned)__builtin_ctzll(ml);
    }
  }
  *n_out = n;
  *last = (size_t)(start - b);
  return end;
}

#undef SPLIT_FN
#undef SPLIT_ATTR
#undef SPLIT_MASKS
