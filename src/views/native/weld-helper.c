/*
 * weld-helper: the few syscalls Node cannot make (unshare, mount(2), pivot_root,
 * exec in place). Built by src/views/native.ts with the system C compiler.
 *
 *   weld-helper run [--meta IMG --objects DIR | --fuse] --scratch DIR
 *                   [--server ARG]... [--bind SRC:DST[:ro]]... [--timing-fd N] -- CMD ARG...
 *   weld-helper fusemount MOUNTPOINT      (fd 3 is an open /dev/fuse)
 *
 * Exit codes before CMD runs: 125 weld's own failure, 126 cannot run, 127 not found.
 * mount(2) on an EROFS image *file* needs no loop device (EROFS_FS_BACKED_BY_FILE, 6.12+).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256

static void die(int code, const char *fmt, ...) {
  int e = errno;
  va_list ap;
  char msg[4096];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (e) fprintf(stderr, "weld: %s: %s\n", msg, strerror(e));
  else fprintf(stderr, "weld: %s\n", msg);
  exit(code);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  errno = 0;
  if (mount(src, dst, type, flags, data) != 0) {
    if (errno == EPERM) die(125, "Cannot mount %s on %s: weld run and weld mount need root (CAP_SYS_ADMIN)", type ? type : src, dst);
    die(125, "Cannot mount %s %s on %s", type ? type : "bind", src, dst);
  }
}

static void path_join(char *out, size_t n, const char *a, const char *b) {
  if ((size_t)snprintf(out, n, "%s%s%s", a, b[0] == '/' ? "" : "/", b) >= n) {
    errno = ENAMETOOLONG;
    die(125, "Cannot build path %s/%s", a, b);
  }
}

/* tmpfs /dev with bind mounts of the host's device nodes: no mknod needed */
static void setup_dev(const char *root) {
  static const char *devs[] = {"null", "zero", "full", "random", "urandom", "tty"};
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
  path_join(p, sizeof p, dev, "shm");
  if (mkdir(p, 01777) != 0) die(125, "Cannot create %s", p);
}

static pid_t cmd_pid = -1, server_pid = -1;

static void forward(int sig) {
  if (cmd_pid > 0) kill(cmd_pid, sig);
}

/* pivot so the host's tree is not even reachable through '..'. With FUSE, pivot_root
   would also move the server's root (it moves every process of the namespace), so the
   server would lose the store: the command alone is chrooted then. */
static void exec_in_view(const char *root, int pivot, char **cmd) {
  if (chdir(root) != 0) die(125, "Cannot enter %s", root);
  if (pivot && syscall(SYS_pivot_root, ".", ".") == 0) {
    if (umount2(".", MNT_DETACH) != 0) die(125, "Cannot detach the host root");
  } else if (chroot(".") != 0) {
    die(125, "Cannot change root to %s", root);
  }
  if (chdir("/") != 0) die(125, "Cannot enter /");
  /* CMD dies with weld (kill -9 included), and with it the namespace */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  execvp(cmd[0], cmd);
  int e = errno;
  if (e == ENOENT || e == ENOTDIR) { errno = 0; die(127, "%s: command not found in the view", cmd[0]); }
  die(126, "Cannot run %s", cmd[0]);
}

static int run(int argc, char **argv) {
  const char *meta = NULL, *objects = NULL, *scratch = NULL;
  int fuse = 0, timing_fd = -1;
  char *server[MAX_ARGS + 1];
  int nserver = 0;
  char *binds[MAX_ARGS];
  int nbinds = 0;
  int i = 0;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (i + 1 >= argc && strcmp(a, "--fuse")) { errno = 0; die(125, "helper: %s needs a value", a); }
    if (!strcmp(a, "--meta")) meta = argv[++i];
    else if (!strcmp(a, "--objects")) objects = argv[++i];
    else if (!strcmp(a, "--scratch")) scratch = argv[++i];
    else if (!strcmp(a, "--fuse")) fuse = 1;
    else if (!strcmp(a, "--server") && nserver < MAX_ARGS) server[nserver++] = argv[++i];
    else if (!strcmp(a, "--bind") && nbinds < MAX_ARGS) binds[nbinds++] = argv[++i];
    else if (!strcmp(a, "--timing-fd")) timing_fd = atoi(argv[++i]);
    else { errno = 0; die(125, "helper: unknown option %s", a); }
  }
  server[nserver] = NULL;
  if (i >= argc) { errno = 0; die(125, "helper: no command"); }
  if (!scratch || (!fuse && (!meta || !objects)) || (fuse && !nserver)) { errno = 0; die(125, "helper: missing --scratch, --meta/--objects or --server"); }
  char **cmd = argv + i;
  double t0 = now_ms();

  errno = 0;
  if (unshare(CLONE_NEWNS) != 0) {
    if (errno == EPERM) die(125, "Cannot create a mount namespace: weld run needs root (CAP_SYS_ADMIN)");
    die(125, "Cannot create a mount namespace");
  }
  /* nothing we mount may propagate back to the host */
  do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  do_mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=700,size=16k");
  char root[4096], m[4096], opts[8192];
  path_join(root, sizeof root, scratch, "/r");
  path_join(m, sizeof m, scratch, "/m");
  if (mkdir(root, 0755) != 0 || mkdir(m, 0700) != 0) die(125, "Cannot create mount points in %s", scratch);
  double t_ns = now_ms();

  if (fuse) {
    int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fd < 0) die(125, "Cannot open /dev/fuse");
    snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions", fd);
    do_mount("weld", root, "fuse.weld", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pid_t ppid = getpid();
    pid_t pid = server_pid = fork();
    if (pid < 0) die(125, "Cannot fork the FUSE server");
    if (pid == 0) {
      /* the server lives in this namespace and dies with CMD */
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != ppid) _exit(0);
      /* dup2 onto itself would keep O_CLOEXEC (fd is 3 when no --timing-fd pipe holds it) */
      if (fd == 3 ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, 3) < 0) _exit(125);
      if (timing_fd >= 0 && timing_fd != 3) close(timing_fd);
      setsid();
      execv(server[0], server);
      die(125, "Cannot start the FUSE server %s", server[0]);
    }
    close(fd);
  } else {
    /* the image file itself is the source: no loop device */
    do_mount(meta, m, "erofs", MS_RDONLY | MS_NODEV, NULL);
    if ((size_t)snprintf(opts, sizeof opts, "lowerdir=%s::%s,metacopy=on,redirect_dir=follow", m, objects) >= sizeof opts) {
      errno = ENAMETOOLONG;
      die(125, "Cannot mount overlay");
    }
    do_mount("overlay", root, "overlay", MS_RDONLY, opts);
  }
  double t_root = now_ms();

  char p[4096];
  path_join(p, sizeof p, root, "/proc");
  do_mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  path_join(p, sizeof p, root, "/sys");
  do_mount("sysfs", p, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  path_join(p, sizeof p, root, "/tmp");
  do_mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  setup_dev(root);
  for (int b = 0; b < nbinds; b++) {
    char *spec = binds[b];
    char *colon = strchr(spec, ':');
    if (!colon) { errno = 0; die(125, "--bind %s: expected HOST:GUEST", spec); }
    *colon = 0;
    char *guest = colon + 1;
    int ro = 0;
    char *c2 = strchr(guest, ':');
    if (c2) { *c2 = 0; ro = !strcmp(c2 + 1, "ro"); }
    path_join(p, sizeof p, root, guest);
    do_mount(spec, p, NULL, MS_BIND | MS_REC, NULL);
    if (ro) do_mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
  }

  double t_end = now_ms();
  if (timing_fd >= 0) {
    dprintf(timing_fd, "{\"start\":%.3f,\"namespace\":%.3f,\"root\":%.3f,\"mounts\":%.3f,\"total\":%.3f}\n", t0, t_ns - t0, t_root - t_ns, t_end - t_root, t_end - t0);
    close(timing_fd);
  }
  if (!fuse) exec_in_view(root, 1, cmd);

  /* FUSE: stay as a small supervisor, so the server is no child of CMD (a shell
     would wait for it) and dies with CMD; exit with CMD's status */
  cmd_pid = fork();
  if (cmd_pid < 0) die(125, "Cannot fork");
  if (cmd_pid == 0) exec_in_view(root, 0, cmd);
  static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  struct sigaction sa = {0};
  sa.sa_handler = forward;
  for (size_t k = 0; k < sizeof fwd / sizeof *fwd; k++) sigaction(fwd[k], &sa, NULL);
  int st = 0;
  while (waitpid(cmd_pid, &st, 0) < 0 && errno == EINTR) {}
  kill(server_pid, SIGKILL);
  /* reaped here, so its CPU time counts in weld run's own (time(1), rusage) */
  while (waitpid(server_pid, NULL, 0) < 0 && errno == EINTR) {}
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

/* weld mount: fd 3 is /dev/fuse, opened by the server */
static int fusemount(const char *mp) {
  char opts[256];
  snprintf(opts, sizeof opts, "fd=3,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions");
  do_mount("weld", mp, "fuse.weld", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "run")) return run(argc - 2, argv + 2);
  if (argc == 3 && !strcmp(argv[1], "fusemount")) return fusemount(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "umount")) {
    if (umount2(argv[2], MNT_DETACH) != 0) die(1, "Cannot unmount %s", argv[2]);
    return 0;
  }
  fprintf(stderr, "usage: weld-helper run ... -- CMD | fusemount MOUNTPOINT | umount MOUNTPOINT\n");
  return 125;
}
