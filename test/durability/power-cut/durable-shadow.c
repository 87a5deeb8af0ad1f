/*
 * durable-shadow: an LD_PRELOAD shim that keeps, beside a node's data directory, what a power cut
 * would leave of it: each file as of its last completed fsync/fdatasync (the worst case, where the
 * kernel wrote back no dirty page on its own). test/durability/power-cut.e2e-spec.ts compiles it
 * with gcc, runs the nodes with it, and "cuts the power" by SIGKILL and replacing the data
 * directory with the shadow.
 *
 *   DURABLE_SHADOW_DIR  the directory whose files are shadowed (default: DATA_DIR)
 *   DURABLE_SHADOW_TO   where the shadow goes (default: <DURABLE_SHADOW_DIR>.durable)
 *   DURABLE_SHADOW_LOG  one line per snapshot, "<call> <relative path> <bytes>" (default: <shadow>.log)
 *
 * fsync(fd) and fdatasync(fd) of a regular file under the directory copy the file's whole content
 * as the call begins (through /proc/self/fd/N, so the caller's offset is untouched;
 * copy_file_range, else pread and write) to <shadow>/<relative path>.shadow-tmp.<n>, call the real
 * sync, and only once it has returned (successfully) rename the copy over <shadow>/<relative path>:
 * a process killed during a sync, as a power cut during one, keeps the previous snapshot, and
 * whatever the node did before the sync returned (answer a peer, acknowledge a client) is caught
 * out. A copy older than one already published is dropped (syncs of one file on two threads). A
 * copy that cannot be made fails the sync with EIO (the node then stops, as on a failing disk).
 * unlink/unlinkat of a shadowed file removes its snapshot too (a deletion counts as durable at
 * once, so a file deleted and created again starts with no durable content). A file never synced
 * has no snapshot: the cut loses it. Directory fsyncs are ignored (a file that was synced once
 * keeps its name). Copies are taken and published under a mutex (the real syncs run outside it):
 * SQLite syncs on the main thread and in the checkpointer's worker, libuv's fs.fdatasync in its
 * thread pool.
 *
 * What a Node 24 binary calls (nm -D): fsync and fdatasync, both through libc, so both are
 * interposed; it calls neither sync_file_range (never durable: no metadata, no cache flush) nor
 * syncfs, and writes no file with O_SYNC/O_DSYNC. libuv (1.52) does file operations in its thread
 * pool, through libc, unless a loop asks for io_uring's sqpoll (Node's does not); the test also
 * sets UV_USE_IO_URING=0, and checks that the write-ahead log's fdatasync snapshots happened, so a
 * bypass would fail the test rather than let it pass vacuously.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char watched_env[PATH_MAX];
static char watched[PATH_MAX]; /* realpath of watched_env, resolved once the directory exists */
static char shadow[PATH_MAX];
static char log_path[PATH_MAX + 16];
static int log_fd = -1;

__attribute__((constructor)) static void init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
  real_unlinkat = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
  const char *dir = getenv("DURABLE_SHADOW_DIR");
  if (!dir || !*dir) dir = getenv("DATA_DIR");
  if (!dir || !*dir || strlen(dir) >= PATH_MAX - 32) return;
  snprintf(watched_env, sizeof watched_env, "%s", dir);
  const char *to = getenv("DURABLE_SHADOW_TO");
  if (to && *to) snprintf(shadow, sizeof shadow, "%s", to);
  else snprintf(shadow, sizeof shadow, "%s.durable", dir);
  const char *log = getenv("DURABLE_SHADOW_LOG");
  if (log && *log) snprintf(log_path, sizeof log_path, "%s", log);
  else snprintf(log_path, sizeof log_path, "%s.log", shadow);
}

/* Under the lock. The watched directory's real path (it may not exist yet at start); 0 when known. */
static int resolve_watched(void) {
  if (watched[0]) return 0;
  if (!watched_env[0] || !realpath(watched_env, watched)) {
    watched[0] = 0;
    return -1;
  }
  return 0;
}

/* `path` relative to the watched directory, or NULL when it is not inside it. */
static const char *relative(const char *path) {
  size_t n = strlen(watched);
  if (strncmp(path, watched, n) != 0 || path[n] != '/' || path[n + 1] == 0) return NULL;
  return path + n + 1;
}

static int mkdirs(char *path) { /* every parent directory of `path` */
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    int r = mkdir(path, 0755);
    *p = '/';
    if (r != 0 && errno != EEXIST) return -1;
  }
  return 0;
}

static int copy_all(int in, int out, off_t size) {
  off_t at = 0;
  while (at < size) {
    loff_t in_off = at;
    ssize_t n = copy_file_range(in, &in_off, out, NULL, (size_t)(size - at), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    at += n;
  }
  static char buf[1 << 16]; /* under the lock */
  while (at < size) { /* copy_file_range refused (or the file shrank): the plain way */
    ssize_t n = pread(in, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return -1;
      done += w;
    }
    at += n;
  }
  return 0;
}

static void log_line(const char *call, const char *rel, long long bytes) {
  if (log_fd < 0) log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return;
  char line[PATH_MAX + 64];
  int n = snprintf(line, sizeof line, "%s %s %lld\n", call, rel, bytes);
  if (n > 0 && write(log_fd, line, (size_t)n) < 0) { /* the log is only for counting */ }
}

/* A copy taken as a sync began, published once that sync has returned. */
struct pending {
  int active;
  unsigned long gen;
  long long bytes;
  char rel[PATH_MAX];
  char dst[PATH_MAX * 2];
  char tmp[PATH_MAX * 2 + 48];
};

static unsigned long generation;
/* The newest copy published per file: a sync that returns after a later one began must not win. */
#define MAX_FILES 64
static struct { char rel[256]; unsigned long gen; } published[MAX_FILES];
static int published_count;

static unsigned long *published_gen(const char *rel) {
  if (strlen(rel) >= sizeof published[0].rel) return NULL;
  for (int i = 0; i < published_count; i++) if (strcmp(published[i].rel, rel) == 0) return &published[i].gen;
  if (published_count == MAX_FILES) return NULL;
  snprintf(published[published_count].rel, sizeof published[0].rel, "%s", rel);
  published[published_count].gen = 0;
  return &published[published_count++].gen;
}

/* Copies the file behind `fd`, if it lies under the watched directory, into a temp file of the shadow; -1 on failure. */
static int take(int fd, struct pending *p) {
  p->active = 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  char proc[64], path[PATH_MAX];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(proc, path, sizeof path - 1);
  if (len <= 0) return 0;
  path[len] = 0;
  int result = 0;
  pthread_mutex_lock(&lock);
  const char *rel = resolve_watched() == 0 ? relative(path) : NULL;
  if (rel && !strstr(path, " (deleted)")) {
    p->gen = ++generation;
    snprintf(p->rel, sizeof p->rel, "%s", rel);
    snprintf(p->dst, sizeof p->dst, "%s/%s", shadow, rel);
    snprintf(p->tmp, sizeof p->tmp, "%s.shadow-tmp.%lu", p->dst, p->gen);
    int in = open(proc, O_RDONLY | O_CLOEXEC); /* a descriptor of our own: the caller's offset stays */
    int out = in < 0 || mkdirs(p->tmp) != 0 ? -1 : open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct stat now;
    if (out < 0 || fstat(in, &now) != 0 || copy_all(in, out, now.st_size) != 0 || close(out) != 0) {
      fprintf(stderr, "durable-shadow: cannot copy %s to %s: %s\n", path, p->tmp, strerror(errno));
      real_unlink(p->tmp);
      result = -1;
    } else {
      p->active = 1;
      p->bytes = (long long)now.st_size;
    }
    if (in >= 0) close(in);
  }
  pthread_mutex_unlock(&lock);
  return result;
}

/* The sync returned: its copy becomes the file's snapshot if it succeeded and no later one did already. */
static void publish(struct pending *p, const char *call, int synced) {
  if (!p->active) return;
  pthread_mutex_lock(&lock);
  unsigned long *gen = published_gen(p->rel);
  if (synced && (!gen || *gen < p->gen) && rename(p->tmp, p->dst) == 0) {
    if (gen) *gen = p->gen;
    log_line(call, p->rel, p->bytes);
  } else {
    real_unlink(p->tmp);
  }
  pthread_mutex_unlock(&lock);
}

int fsync(int fd) {
  struct pending p;
  if (take(fd, &p) != 0) return errno = EIO, -1;
  int r = real_fsync(fd);
  int saved = errno;
  publish(&p, "fsync", r == 0);
  errno = saved;
  return r;
}

int fdatasync(int fd) {
  struct pending p;
  if (take(fd, &p) != 0) return errno = EIO, -1;
  int r = real_fdatasync(fd);
  int saved = errno;
  publish(&p, "fdatasync", r == 0);
  errno = saved;
  return r;
}

/* After a successful unlink of `path` (relative to directory `dirfd`): its snapshot goes too. */
static void forget(int dirfd, const char *path) {
  char base[PATH_MAX], full[PATH_MAX * 2], dir[PATH_MAX], real_dir[PATH_MAX];
  if (path[0] == '/' || dirfd == AT_FDCWD) {
    if (path[0] == '/') snprintf(base, sizeof base, "/");
    else if (!getcwd(base, sizeof base)) return;
  } else {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
    ssize_t len = readlink(proc, base, sizeof base - 1);
    if (len <= 0) return;
    base[len] = 0;
  }
  snprintf(full, sizeof full, "%s/%s", path[0] == '/' ? "" : base, path);
  char *slash = strrchr(full, '/');
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - full), full);
  if (!realpath(dir[0] ? dir : "/", real_dir)) return;
  pthread_mutex_lock(&lock);
  char resolved[PATH_MAX * 2 + 2];
  snprintf(resolved, sizeof resolved, "%s/%s", real_dir, slash + 1);
  const char *rel = resolve_watched() == 0 ? relative(resolved) : NULL;
  if (rel) {
    char dst[PATH_MAX * 3];
    snprintf(dst, sizeof dst, "%s/%s", shadow, rel);
    if (real_unlink(dst) == 0) log_line("unlink", rel, 0);
  }
  pthread_mutex_unlock(&lock);
}

int unlink(const char *path) {
  int r = real_unlink(path);
  if (r == 0 && watched_env[0]) {
    int saved = errno;
    forget(AT_FDCWD, path);
    errno = saved;
  }
  return r;
}

int unlinkat(int dirfd, const char *path, int flags) {
  int r = real_unlinkat(dirfd, path, flags);
  if (r == 0 && !(flags & AT_REMOVEDIR) && watched_env[0]) {
    int saved = errno;
    forget(dirfd, path);
    errno = saved;
  }
  return r;
}
