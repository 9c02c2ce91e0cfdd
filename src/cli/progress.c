/*
 * progress.c - the progress line on standard error for long runs on a
 * terminal: bytes, rows, rows/s, and percent when the input's size is
 * known, with an ETA once it means something (1% read, a second or more).
 * Redrawn with '\r' at most every 0.5 s and only after the first 0.5 s, so
 * short runs never flash a line; erased at the end.
 */
#include <time.h>

#include "cli.h"

#define PROGRESS_PERIOD 0.5

double progress_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_init(progress *p, int enabled) {
  p->enabled = enabled;
  p->start = progress_now();
  p->last = p->start;
  p->drawn = 0;
}

/* Bytes with a binary unit, e.g. "12.3 MiB". */
static void human_bytes(char *buf, size_t size, double b) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) {
    b /= 1024.0;
    u++;
  }
  snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

void progress_update(progress *p, uint64_t bytes, uint64_t rows, int64_t size) {
  if (!p->enabled)
    return;
  double now = progress_now();
  if (now - p->last < PROGRESS_PERIOD)
    return;
  p->last = now;
  double elapsed = now - p->start;
  char line[160], hb[32];
  human_bytes(hb, sizeof hb, (double)bytes);
  int n = snprintf(line, sizeof line, "%s, %llu row%s, %.0f rows/s", hb, (unsigned long long)rows,
                   CLI_PLURAL(rows), elapsed > 0 ? (double)rows / elapsed : 0.0);
  if (size > 0 && n > 0 && (size_t)n < sizeof line) {
    double frac = (double)bytes / (double)size;
    if (frac > 1)
      frac = 1;
    n += snprintf(line + n, sizeof line - (size_t)n, ", %.0f%%", frac * 100);
    /* An ETA only when it says something (issue 16): not before 1% is
     * read (the rate is not known yet), and not under a second ("ETA 0 s"
     * near the end told nothing). */
    double eta = frac >= 0.01 ? elapsed * (1 - frac) / frac : -1;
    if (eta >= 1 && n > 0 && (size_t)n < sizeof line) {
      unsigned long e = (unsigned long)(eta + 0.5);
      if (e < 60)
        n += snprintf(line + n, sizeof line - (size_t)n, ", ETA %lu s", e);
      else if (e < 3600)
        n += snprintf(line + n, sizeof line - (size_t)n, ", ETA %lu min %02lu s", e / 60, e % 60);
      else
        n += snprintf(line + n, sizeof line - (size_t)n, ", ETA %lu h %02lu min", e / 3600,
                      e / 60 % 60);
    }
  }
  if (n < 0)
    return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  /* Pad with spaces over a longer previous line instead of relying on escapes. */
  fprintf(stderr, "\r%s%*s", line, p->drawn > len ? (int)(p->drawn - len) : 0, "");
  fflush(stderr);
  if (len > p->drawn)
    p->drawn = len;
}

void progress_done(progress *p) {
  if (!p->enabled || p->drawn == 0)
    return;
  fprintf(stderr, "\r%*s\r", (int)p->drawn, "");
  fflush(stderr);
  p->drawn = 0;
}
