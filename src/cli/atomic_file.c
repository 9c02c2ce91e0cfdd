/*
 * atomic_file.c - see atomic_file.h. One temporary file at a time is
 * registered with the signal handlers: its name lives in a static buffer so
 * the handler can unlink(2) it, which is async-signal-safe, before the
 * signal's default action ends the process.
 *
 * What `-o PATH` does with what is already at PATH (README "Output files"):
 * - nothing there, or a regular file: a temporary file beside it, renamed
 *   over it; an existing file's mode (and group, where permitted) is kept;
 *   a file with other hard links gets a warning, as the rename replaces only
 *   this name;
 * - a symlink: followed (to any depth), and its target replaced as above, so
 *   the link stays a link;
 * - anything else (a device such as /dev/null, a FIFO, /dev/stdout, a
 *   socket): written directly, never renamed over. Such a target cannot be
 *   atomic, and replacing it with a regular file (as root: /dev/full) would
 *   destroy it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli.h"

static char pending[4096];
static volatile sig_atomic_t have_pending;
/* A second slot for fit --spill's copy of standard input, which lives while
 * an -o output may be pending too. */
static char spill[4096];
static volatile sig_atomic_t have_spill;

static void on_signal(int sig) {
  if (have_pending)
    unlink(pending);
  if (have_spill)
    unlink(spill);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Every catchable signal whose default action ends the process. One the
 * process inherited as ignored stays ignored (under nohup, a hangup must not
 * kill the job); SIGPIPE and SIGXFSZ are ignored by main and so kept. */
static const int terminating[] = {SIGINT,  SIGTERM,   SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
                                  SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGPIPE, SIGXFSZ};

static void guard(const char *tmp) {
  static int installed;
  if (!installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof terminating / sizeof terminating[0]; k++) {
      struct sigaction old;
      if (sigaction(terminating[k], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
        sigaction(terminating[k], &sa, NULL);
    }
    installed = 1;
  }
  have_pending = 0;
  snprintf(pending, sizeof pending, "%s", tmp);
  have_pending = 1;
}

static void unguard(void) { have_pending = 0; }

void atomic_guard_spill(const char *path) {
  /* the handlers: installed by guard(), its own slot left as it was */
  int had = have_pending;
  char keep[sizeof pending];
  memcpy(keep, pending, sizeof keep);
  guard(path);
  have_pending = 0;
  memcpy(pending, keep, sizeof keep);
  have_pending = had;
  have_spill = 0;
  snprintf(spill, sizeof spill, "%s", path);
  have_spill = 1;
}

void atomic_unguard_spill(void) { have_spill = 0; }

int atomic_mkstemp(char *path, int spill_slot) {
  sigset_t hold, old;
  sigemptyset(&hold);
  for (size_t k = 0; k < sizeof terminating / sizeof terminating[0]; k++)
    sigaddset(&hold, terminating[k]);
  sigprocmask(SIG_BLOCK, &hold, &old);
  int fd = mkstemp(path);
  int saved = errno;
  if (fd >= 0) {
    if (spill_slot)
      atomic_guard_spill(path);
    else
      guard(path);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return fd;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (!d)
    errno = ENOMEM; /* as malloc does; the fault injector may not */
  return d ? memcpy(d, s, n) : NULL;
}

/* The path a symlink chain ends at (the target may not exist yet: a dangling
 * link names the file to create). NULL with errno on failure; ELOOP past 40
 * links, as the kernel. */
static char *follow_links(const char *path) {
  char *cur = dup_str(path);
  for (int depth = 0; cur; depth++) {
    struct stat st;
    /* /dev/stdout -> /proc/self/fd/1 -> "pipe:[N]": the kernel's links lead
     * to no path; such a name is opened as it is (see open_direct). */
    if (strncmp(cur, "/dev/", 5) == 0 || strncmp(cur, "/proc/", 6) == 0)
      return cur;
    if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
      return cur; /* not there (to be created) or not a link */
    if (depth == 40) {
      free(cur);
      errno = ELOOP;
      return NULL;
    }
    char link[PATH_MAX];
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0) {
      free(cur);
      return NULL;
    }
    link[n] = '\0';
    char *next;
    if (link[0] == '/') {
      next = dup_str(link);
    } else {
      /* Relative to the directory holding the link. */
      char *dcopy = dup_str(cur);
      const char *dir = dcopy ? dirname(dcopy) : NULL;
      size_t len = dir ? strlen(dir) + (size_t)n + 2 : 0;
      next = dir ? malloc(len) : NULL;
      if (next)
        snprintf(next, len, "%s/%s", dir, link);
      free(dcopy);
    }
    free(cur);
    cur = next;
  }
  errno = ENOMEM;
  return NULL;
}

/* A target that is not a regular file is written in place. */
static int open_direct(atomic_file *af, const char *path, char *msg, size_t msgsize) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_NOCTTY);
  if (fd < 0 || !(af->fp = fdopen(fd, "w"))) {
    snprintf(msg, msgsize, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return CLI_EXIT_IO;
  }
  af->direct = 1;
  return 0;
}

int atomic_open(atomic_file *af, const char *path, char *msg, size_t msgsize) {
  int rc = CLI_EXIT_IO;
  memset(af, 0, sizeof *af);
  char *target = follow_links(path);
  if (!target) {
    if (errno == ENOMEM) {
      snprintf(msg, msgsize, "out of memory");
      return CLI_EXIT_INTERNAL;
    }
    snprintf(msg, msgsize, "cannot write %s: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  struct stat old;
  int exists = stat(target, &old) == 0;
  if ((exists && !S_ISREG(old.st_mode)) || strncmp(target, "/dev/", 5) == 0 ||
      strncmp(target, "/proc/", 6) == 0) {
    rc = open_direct(af, target, msg, msgsize);
    if (rc == 0)
      af->path = target;
    else
      free(target);
    return rc;
  }
  if (exists && old.st_nlink > 1)
    cli_warnf("%s has %lu other hard link(s): they keep the old contents", path,
              (unsigned long)old.st_nlink - 1);
  char *dcopy = dup_str(target), *bcopy = dup_str(target);
  af->path = target;
  if (!dcopy || !bcopy) {
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
  int fd = atomic_mkstemp(af->tmp_path, 0);
  if (fd < 0) {
    snprintf(msg, msgsize, "cannot create a temporary file for %s: %s", path, strerror(errno));
    goto fail;
  }
  if (exists) {
    /* The file keeps what its owner chose: a 0600 model stays private. */
    fchmod(fd, old.st_mode & 07777);
    if (fchown(fd, (uid_t)-1, old.st_gid) != 0) {
      /* Not a member of that group: the file gets ours, as any new file. */
    }
  } else {
    /* mkstemp makes the file 0600; a new model is an ordinary output file. */
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
  }
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
  if (af->direct) {
    if (fflush(af->fp) != 0 || ferror(af->fp))
      err = errno ? errno : EIO;
    if (fclose(af->fp) != 0 && !err)
      err = errno ? errno : EIO;
    af->fp = NULL;
    if (err)
      snprintf(msg, msgsize, "cannot write %s: %s", af->path, strerror(err));
    free(af->path);
    memset(af, 0, sizeof *af);
    return err ? -1 : 0;
  }
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
