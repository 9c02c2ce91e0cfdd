/*
 * fuzz_model.c - libFuzzer target for the model-file loader: any bytes give a
 * model or a CSVREG_E_FORMAT (or NOMEM) error, never a crash, a leak or an
 * uninitialised read; a loaded model saves and loads again to the same text
 * and predicts one row without trouble.
 *
 * A mutated file almost never passes its CRC-32, so each input is tried as
 * given (the checksum path) and, when it is a JSON object, with its checksum
 * recomputed (src/model/state.h's canonical text), to reach the checks behind it.
 *
 * Each input is also read from a pipe by csvreg_model_read_fd, whose lexer
 * (json_head.c) stops the read where the text cannot be JSON: it must give
 * the loader's status, never stop a text the loader takes.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvreg.h"
#include "fuzz_rechecksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The status of csvreg_model_read_fd on the bytes through a pipe (inputs
 * are at most 4096 bytes: within the pipe's buffer). */
static csvreg_status read_piped(const uint8_t *data, size_t size) {
  int fd[2];
  if (pipe(fd))
    abort();
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd[1], data + off, size - off);
    if (w <= 0)
      abort();
    off += (size_t)w;
  }
  close(fd[1]);
  csvreg_model *m = NULL;
  csvreg_error err;
  csvreg_status st = csvreg_model_read_fd(&m, fd[0], &err);
  close(fd[0]);
  if ((st == CSVREG_OK) != (m != NULL))
    abort();
  csvreg_model_free(m);
  return st;
}

static void check_model(const uint8_t *data, size_t size) {
  csvreg_model *m = NULL;
  csvreg_error err;
  csvreg_status st = csvreg_model_load(&m, (const char *)data, size, &err);
  csvreg_status piped = read_piped(data, size);
  if (piped != st && piped != CSVREG_E_NOMEM && st != CSVREG_E_NOMEM)
    abort();
  if (st != CSVREG_OK) {
    if (m || (st != CSVREG_E_FORMAT && st != CSVREG_E_NOMEM))
      abort();
    return;
  }
  char *text = NULL, *again = NULL;
  if (csvreg_model_save(m, &text, &err) != CSVREG_OK)
    abort();
  csvreg_model *m2 = NULL;
  if (csvreg_model_load(&m2, text, strlen(text), &err) != CSVREG_OK)
    abort();
  if (csvreg_model_save(m2, &again, &err) != CSVREG_OK || strcmp(text, again) != 0)
    abort();
  size_t p = csvreg_model_nfeatures(m);
  if (p <= 4096) {
    double x[4096] = {0}, yhat = 0, lo = 0, hi = 0;
    csvreg_model_predict(m, 1, x, 1, CSVREG_INTERVAL_PREDICTION, 0.95, &yhat, &lo, &hi, &err);
  }
  free(text);
  free(again);
  csvreg_model_free(m2);
  csvreg_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_model(data, size);
  char *fixed = fuzz_rechecksum((const char *)data, size);
  if (fixed) {
    check_model((const uint8_t *)fixed, strlen(fixed));
    free(fixed);
  }
  return 0;
}
