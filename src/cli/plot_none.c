/*
 * plot_none.c - the program built without cairo (CSVREG_WITH_CAIRO=OFF or
 * no cairo found by pkg-config): `eval --plot` is a usage error saying so.
 * The extension check is plot.c's, so the messages for a bad name agree.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

int plot_available(void) { return 0; }

int plot_format_of(const char *path) {
  const char *dot = strrchr(path, '.');
  if (!dot || strchr(dot, '/'))
    return -1;
  static const char *const ext[3] = {".png", ".svg", ".pdf"};
  for (int k = 0; k < 3; k++) {
    size_t i = 0;
    while (dot[i] && ext[k][i] && (dot[i] | 0x20) == ext[k][i])
      i++;
    if (!dot[i] && !ext[k][i])
      return k;
  }
  return -1;
}

int plot_write(const char *path, plot_format fmt, const plot_data *d, char *msg, size_t msgsize) {
  (void)fmt;
  (void)d;
  snprintf(msg, msgsize, "%s: built without cairo", path);
  return CLI_EXIT_USAGE;
}
