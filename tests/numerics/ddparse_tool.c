/*
 * ddparse_tool.c - reads one decimal a line from standard input and prints
 * csvreg__parse_dd's hi and lo as hexadecimal floats ("bad" when it is not
 * a number), for check_ddparse.py, which checks them with mpmath.
 */
#include <stdio.h>
#include <string.h>

#include "numparse_dd.h"

int main(void) {
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strcspn(line, "\r\n");
    double hi, lo;
    if (csvreg__parse_dd(line, n, &hi, &lo))
      puts("bad");
    else
      printf("%a %a\n", hi, lo);
  }
  return ferror(stdout) || fclose(stdout) ? 1 : 0;
}
