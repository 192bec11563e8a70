/*
 * weld-generate: runs one generator (the image's own tool) in a sandboxed,
 * kernel-composed view of the tree being linked. Built by
 * src/linker/generators/sandbox.ts with the system C compiler.
 *
 *   weld-generate --meta IMG --objects DIR --scratch DIR --collect DIR --out GUESTDIR
 *                 --user UID:GID [--timeout SECS] [--env K=V]... -- TOOL ARG...
 *
 * The view is the views' one (src/views/native/weld-helper.c): a metadata-only
 * EROFS image whose files redirect into the store's objects through a
 * read-only overlayfs. On top of it only GUESTDIR is writable: a second
 * overlay whose upper layer is a tmpfs, owned by UID:GID. The tool runs as
 * UID:GID with no new privileges, in new mount, network (no interfaces up),
 * PID, IPC and UTS namespaces, chrooted into the view. When it exits 0, the
 * upper layer (what the tool wrote) is copied into the host's COLLECT
 * directory and listed on stdout as NUL-terminated records:
 *   f MODE PATH | d MODE PATH | l TARGET PATH | x MODE PATH (anything else: a whiteout…)
 * The tool's own stdout goes to stderr.
 *
 * Exit codes: the tool's, or 124 ran past --timeout (killed, with all it started),
 * 125 weld's own failure, 126 cannot run, 127 not found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 256

static void die(int code, const char *fmt, ...) {
  int e = errno;
  va_list ap;
  char msg[4096];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (e) fprintf(stderr, "weld-generate: %s: %s\n", msg, strerror(e));
  else fprintf(stderr, "weld-generate: %s\n", msg);
  exit(code);
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  errno = 0;
  if (mount(src, dst, type, flags, data) != 0) die(125, "Cannot mount %s %s on %s", type ? type : "bind", src ? src : "", dst);
}

static void path_join(char *out, size_t n, const char *a, const char *b) {
  if ((size_t)snprintf(out, n, "%s%s%s", a, b[0] == '/' ? "" : "/", b) >= n) {
    errno = ENAMETOOLONG;
    die(125, "Cannot build path %s/%s", a, b);
  }
}

static void setup_dev(const char *root) {
  static const char *devs[] = {"null", "zero", "full", "random", "urandom"};
  char dev[4096], p[4096], host[64];
  path_join(dev, sizeof dev, root, "/dev");
  do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k");
  for (size_t i = 0; i < sizeof devs / sizeof *devs; i++) {
    path_join(p, sizeof p, dev, devs[i]);
    snprintf(host, sizeof host, "/dev/%s", devs[i]);
    int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) die(125, "Cannot create %s", p);
    close(fd);
    do_mount(host, p, NULL, MS_BIND, NULL);
  }
  static const char *links[][2] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    path_join(p, sizeof p, dev, links[i][0]);
    if (symlink(links[i][1], p) != 0) die(125, "Cannot create %s", p);
  }
}

static volatile sig_atomic_t timed_out;
static pid_t child = -1;

/* the tool is PID 1 of its namespace: killing it kills everything it started */
static void on_alarm(int sig) {
  (void)sig;
  timed_out = 1;
  if (child > 0) kill(child, SIGKILL);
}

static const char *upper_root, *collect_root;
static size_t upper_len;

static void record(char kind, const char *a, const char *rel) {
  fputc(kind, stdout);
  fputc(0, stdout);
  fputs(a, stdout);
  fputc(0, stdout);
  fputs(rel, stdout);
  fputc(0, stdout);
}

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) { close(in); return -1; }
  char buf[1 << 16];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, n - off);
      if (w < 0) { close(in); close(out); return -1; }
      off += w;
    }
  }
  close(in);
  if (n < 0 || close(out) != 0) return -1;
  return 0;
}

static int collect_one(const char *fpath, const struct stat *st, int flag, struct FTW *ftw) {
  (void)flag;
  if (ftw->level == 0) return 0;
  const char *rel = fpath + upper_len;
  char to[4096], mode[16];
  path_join(to, sizeof to, collect_root, rel);
  snprintf(mode, sizeof mode, "%o", st->st_mode & 07777);
  if (S_ISREG(st->st_mode)) {
    if (copy_file(fpath, to) != 0) die(125, "Cannot collect %s", rel);
    record('f', mode, rel);
  } else if (S_ISDIR(st->st_mode)) {
    if (mkdir(to, 0700) != 0) die(125, "Cannot collect %s", rel);
    record('d', mode, rel);
  } else if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlink(fpath, target, sizeof target - 1);
    if (n < 0) die(125, "Cannot read link %s", rel);
    target[n] = 0;
    record('l', target, rel);
  } else {
    snprintf(mode, sizeof mode, "%o", st->st_mode);
    record('x', mode, rel);
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *meta = NULL, *objects = NULL, *scratch = NULL, *collect = NULL, *out = NULL, *user = NULL;
  unsigned timeout = 0;
  char *envv[MAX_ARGS + 1];
  int nenv = 0, i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (i + 1 >= argc) { errno = 0; die(125, "%s needs a value", a); }
    if (!strcmp(a, "--meta")) meta = argv[++i];
    else if (!strcmp(a, "--objects")) objects = argv[++i];
    else if (!strcmp(a, "--scratch")) scratch = argv[++i];
    else if (!strcmp(a, "--collect")) collect = argv[++i];
    else if (!strcmp(a, "--out")) out = argv[++i];
    else if (!strcmp(a, "--user")) user = argv[++i];
    else if (!strcmp(a, "--timeout")) timeout = (unsigned)atoi(argv[++i]);
    else if (!strcmp(a, "--env") && nenv < MAX_ARGS) envv[nenv++] = argv[++i];
    else { errno = 0; die(125, "unknown option %s", a); }
  }
  envv[nenv] = NULL;
  errno = 0;
  if (i >= argc) die(125, "no command");
  if (!meta || !objects || !scratch || !collect || !out || !user || out[0] != '/') die(125, "missing --meta, --objects, --scratch, --collect, --out or --user");
  unsigned uid, gid;
  if (sscanf(user, "%u:%u", &uid, &gid) != 2 || uid == 0 || gid == 0) die(125, "--user %s: expected UID:GID, not root", user);
  char **cmd = argv + i;
  /* weld dies, the sandbox dies (and with it the tool, whose death signal is ours) */
  prctl(PR_SET_PDEATHSIG, SIGKILL);

  if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) != 0) die(125, "Cannot create namespaces (weld link runs generators as root)");
  do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  do_mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=700,size=2g");
  char root[4096], m[4096], u[4096], w[4096], p[4096], opts[8192];
  path_join(root, sizeof root, scratch, "/r");
  path_join(m, sizeof m, scratch, "/m");
  path_join(u, sizeof u, scratch, "/u");
  path_join(w, sizeof w, scratch, "/w");
  if (mkdir(root, 0755) != 0 || mkdir(m, 0700) != 0 || mkdir(u, 0755) != 0 || mkdir(w, 0700) != 0) die(125, "Cannot create mount points in %s", scratch);
  /* the tool may write only here: the output overlay's root takes the upper dir's owner */
  if (chown(u, uid, gid) != 0) die(125, "Cannot hand %s to %s", u, user);

  do_mount(meta, m, "erofs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL);
  if ((size_t)snprintf(opts, sizeof opts, "lowerdir=%s::%s,metacopy=on,redirect_dir=follow", m, objects) >= sizeof opts) { errno = ENAMETOOLONG; die(125, "Cannot mount overlay"); }
  do_mount("overlay", root, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
  path_join(p, sizeof p, root, "/tmp");
  do_mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m");
  setup_dev(root);
  path_join(p, sizeof p, root, out);
  if ((size_t)snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", p, u, w) >= sizeof opts) { errno = ENAMETOOLONG; die(125, "Cannot mount overlay"); }
  do_mount("overlay", p, "overlay", MS_NOSUID | MS_NODEV, opts);

  pid_t pid = fork();
  if (pid < 0) die(125, "Cannot fork");
  if (pid == 0) {
    /* PID 1 of its namespace: everything it starts dies with it, and it dies with weld */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(2, 1) < 0) die(125, "Cannot redirect stdout");
    if (chdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) die(125, "Cannot change root to %s", root);
    gid_t g = gid;
    if (setgroups(1, &g) != 0 || setgid(gid) != 0 || setuid(uid) != 0) die(125, "Cannot become %s", user);
    /* setuid binaries in the view gain nothing */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die(125, "Cannot set no_new_privs");
    umask(022);
    execve(cmd[0], cmd, envv);
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) { errno = 0; die(127, "%s: not found in the image", cmd[0]); }
    die(126, "Cannot run %s", cmd[0]);
  }
  child = pid;
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  if (timeout) alarm(timeout);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) die(125, "Cannot wait for %s", cmd[0]);
  alarm(0);
  if (timed_out) {
    fprintf(stderr, "weld-generate: %s ran longer than %u s\n", cmd[0], timeout);
    return 124;
  }
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  if (WEXITSTATUS(st) != 0) return WEXITSTATUS(st);

  upper_root = u;
  upper_len = strlen(u);
  collect_root = collect;
  if (nftw(u, collect_one, 32, FTW_PHYS) != 0) die(125, "Cannot collect the output of %s", cmd[0]);
  if (fflush(stdout) != 0) die(125, "Cannot write the output list");
  return 0;
}
