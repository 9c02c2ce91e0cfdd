/*
 * plot_module.c - finding and loading csvreg-plot.so, the module that draws
 * --plot's figure with cairo (plot.c), and writing its file. cairo and
 * fontconfig bring ~20 shared libraries that cost every run of the program
 * ~6 ms to load (measured: `csvreg --version` 14.5 ms linked, 8.5 ms not),
 * so only --plot pays for them, through dlopen.
 *
 * The module is looked for beside the program (the build tree, where both
 * are built in one folder), then where `cmake --install` puts it relative to
 * the program (CSVREG_PLOT_REL, bindir to libdir/csvreg: the install tree,
 * also under DESTDIR or an unpacked package); CSVREG_PLOT_MODULE names it
 * instead (tests). Not found, or cairo not loadable: a usage error (exit 2),
 * as a csvreg built without cairo says.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli.h"
#include "plot.h"

#ifndef CSVREG_PLOT_REL
#define CSVREG_PLOT_REL "../lib/csvreg"
#endif
#define PLOT_MODULE_NAME "csvreg-plot.so"

static plot_draw_fn *plot_draw;
static char module_path[4096];

/* The folder of the running program, with its final '/' ("" when unknown). */
static void exe_dir(char *dir, size_t size) {
  ssize_t n = readlink("/proc/self/exe", dir, size - 1);
  dir[n > 0 ? n : 0] = 0;
  char *slash = strrchr(dir, '/');
  if (slash)
    slash[1] = 0;
  else
    dir[0] = 0;
}

/* The first candidate that exists; the last one tried when none does. */
const char *plot_module_path(void) {
#ifndef CSVREG_PLOT_BUILT
  return NULL;
#else
  if (module_path[0])
    return module_path;
  const char *env = getenv("CSVREG_PLOT_MODULE");
  if (env && *env) {
    snprintf(module_path, sizeof module_path, "%s", env);
    return module_path;
  }
  char dir[2048];
  exe_dir(dir, sizeof dir);
  snprintf(module_path, sizeof module_path, "%s%s", dir, PLOT_MODULE_NAME);
  if (access(module_path, F_OK) != 0)
    snprintf(module_path, sizeof module_path, "%s%s/%s", dir, CSVREG_PLOT_REL, PLOT_MODULE_NAME);
  return module_path;
#endif
}

int plot_load(char *msg, size_t msgsize) {
  if (plot_draw)
    return 0;
  const char *path = plot_module_path();
  if (!path) {
    snprintf(msg, msgsize, "this csvreg was built without cairo");
    return CLI_EXIT_USAGE;
  }
  if (access(path, F_OK) != 0) {
    snprintf(msg, msgsize, "the plot module is not installed (no %s)", path);
    return CLI_EXIT_USAGE;
  }
  /* Kept loaded until exit: cairo's and fontconfig's state is released by
   * the module itself after each figure. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(msg, msgsize, "cannot load the plot module (is cairo installed?): %s", dlerror());
    return CLI_EXIT_USAGE;
  }
  /* ISO C has no conversion from void * to a function pointer; POSIX
   * guarantees dlsym's result converts, through the union. */
  union {
    void *p;
    plot_draw_fn *f;
  } sym;
  sym.p = dlsym(h, PLOT_DRAW_SYMBOL);
  if (!sym.p) {
    snprintf(msg, msgsize, "%s is not this csvreg's plot module (no %s)", path, PLOT_DRAW_SYMBOL);
    dlclose(h);
    return CLI_EXIT_USAGE;
  }
  plot_draw = sym.f;
  return 0;
}

int plot_write(const char *path, plot_format fmt, const plot_data *d, char *msg, size_t msgsize) {
  if (d->m.n == 0 || d->nsample == 0) {
    snprintf(msg, msgsize, "%s: no rows to plot", path);
    return CLI_EXIT_NUMERIC;
  }
  int rc = plot_load(msg, msgsize);
  if (rc)
    return rc;
  atomic_file af;
  memset(&af, 0, sizeof af);
  rc = atomic_open(&af, path, msg, msgsize);
  if (rc)
    return rc;
  rc = plot_draw(af.fp, path, fmt, d, msg, msgsize);
  if (rc) {
    atomic_abort(&af);
    return rc;
  }
  if (atomic_commit(&af, msg, msgsize))
    return CLI_EXIT_IO;
  return 0;
}
