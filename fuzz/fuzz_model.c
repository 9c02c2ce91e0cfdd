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
 *
 * And from a regular file (a memfd), which csvreg_model_read_fd scans a
 * block at a time and never holds whole (load12d; blocks of 1 to 16 bytes
 * or the default, by the input's size): the status and the message of the
 * pipe's whole-text load, and a model that saves to the same text.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csvreg.h"
#include "fuzz_rechecksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The status of csvreg_model_read_fd on the bytes through a pipe (inputs
 * are at most 4096 bytes: within the pipe's buffer). */
static void write_all(int fd, const uint8_t *data, size_t size) {
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0)
      abort();
    off += (size_t)w;
  }
}

/* The model read from fd (its saved text in *text, malloc'd, when it
 * loads), its status and message. */
static csvreg_status read_from(int fd, char **text, char *msg) {
  csvreg_model *m = NULL;
  csvreg_error err;
  csvreg_error_clear(&err);
  csvreg_status st = csvreg_model_read_fd(&m, fd, &err);
  if ((st == CSVREG_OK) != (m != NULL))
    abort();
  memcpy(msg, err.message, sizeof err.message);
  *text = NULL;
  if (m && csvreg_model_save(m, text, &err) != CSVREG_OK)
    abort();
  csvreg_model_free(m);
  return st;
}

static csvreg_status read_piped(const uint8_t *data, size_t size) {
  int fd[2];
  if (pipe(fd))
    abort();
  write_all(fd[1], data, size);
  close(fd[1]);
  char *text, msg[sizeof(((csvreg_error *)0)->message)];
  csvreg_status st = read_from(fd[0], &text, msg);
  close(fd[0]);
  /* the same bytes from a regular file, scanned in small blocks */
  int f = memfd_create("model", MFD_CLOEXEC);
  if (f < 0)
    abort();
  write_all(f, data, size);
  if (lseek(f, 0, SEEK_SET) != 0)
    abort();
  char block[16];
  snprintf(block, sizeof block, "%zu", 1 + size % 17);
  if (size % 17 == 16)
    unsetenv("CSVREG_TEST_MODEL_BLOCK");
  else
    setenv("CSVREG_TEST_MODEL_BLOCK", block, 1);
  char *text2, msg2[sizeof msg];
  csvreg_status st2 = read_from(f, &text2, msg2);
  close(f);
  if (st2 != st && st2 != CSVREG_E_NOMEM && st != CSVREG_E_NOMEM)
    abort();
  if (st2 == st && st && strcmp(msg, msg2) != 0)
    abort();
  if (text && text2 && strcmp(text, text2) != 0)
    abort();
  free(text);
  free(text2);
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
