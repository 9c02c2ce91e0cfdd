/*
 * atomic_file.c - see atomic_file.h. One temporary file at a time is
 * registered with the signal handlers: its name lives in a static buffer so
 * the handler can unlink(2) it, which is async-signal-safe, before the
 * signal's default action ends the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli.h"

static char pending[4096];
static volatile sig_atomic_t have_pending;

static void on_signal(int sig) {
  if (have_pending)
    unlink(pending);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void guard(const char *tmp) {
  static int installed;
  if (!installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    installed = 1;
  }
  have_pending = 0;
  snprintf(pending, sizeof pending, "%s", tmp);
  have_pending = 1;
}

static void unguard(void) { have_pending = 0; }

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  return d ? memcpy(d, s, n) : NULL;
}

int atomic_open(atomic_file *af, const char *path, char *msg, size_t msgsize) {
  int rc = CLI_EXIT_IO;
  memset(af, 0, sizeof *af);
  char *dcopy = dup_str(path), *bcopy = dup_str(path);
  af->path = dup_str(path);
  if (!dcopy || !bcopy || !af->path) {
    snprintf(msg, msgsize, "out of memory");
    rc = CLI_EXIT_INTERNAL;
    goto fail;
  }
  const char *dir = dirname(dcopy), *base = basename(bcopy);
  size_t n = strlen(dir) + strlen(base) + 32;
  if (!(af->tmp_path = malloc(n))) {
    snprintf(msg, msgsize, "out of memory");
    rc = CLI_EXIT_INTERNAL;
    goto fail;
  }
  snprintf(af->tmp_path, n, "%s/.%s.tmp.XXXXXX", dir, base);
  if (strlen(af->tmp_path) >= sizeof pending) {
    snprintf(msg, msgsize, "cannot write %s: path too long", path);
    goto fail;
  }
  int fd = mkstemp(af->tmp_path);
  if (fd < 0) {
    snprintf(msg, msgsize, "cannot create a temporary file for %s: %s", path, strerror(errno));
    goto fail;
  }
  guard(af->tmp_path);
  /* mkstemp makes the file 0600; a model is an ordinary output file. */
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  if (!(af->fp = fdopen(fd, "w"))) {
    snprintf(msg, msgsize, "cannot write %s: %s", af->tmp_path, strerror(errno));
    close(fd);
    unlink(af->tmp_path);
    unguard();
    goto fail;
  }
  free(dcopy);
  free(bcopy);
  return 0;
fail:
  free(dcopy);
  free(bcopy);
  free(af->path);
  free(af->tmp_path);
  memset(af, 0, sizeof *af);
  return rc;
}

int atomic_commit(atomic_file *af, char *msg, size_t msgsize) {
  int err = 0;
  if (fflush(af->fp) != 0 || ferror(af->fp))
    err = errno ? errno : EIO;
  else if (fsync(fileno(af->fp)) != 0)
    err = errno;
  if (fclose(af->fp) != 0 && !err)
    err = errno ? errno : EIO;
  af->fp = NULL;
  if (!err && rename(af->tmp_path, af->path) != 0)
    err = errno;
  if (err) {
    snprintf(msg, msgsize, "cannot write %s: %s", af->path, strerror(err));
    atomic_abort(af);
    return -1;
  }
  unguard();
  /* Make the rename itself durable. */
  char *dcopy = dup_str(af->path);
  if (dcopy) {
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dcopy);
  }
  free(af->path);
  free(af->tmp_path);
  memset(af, 0, sizeof *af);
  return 0;
}

void atomic_abort(atomic_file *af) {
  if (af->fp)
    fclose(af->fp);
  if (af->tmp_path) {
    unlink(af->tmp_path);
    unguard();
  }
  free(af->path);
  free(af->tmp_path);
  memset(af, 0, sizeof *af);
}
