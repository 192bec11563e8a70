/*
 * weld-copy: copies store objects into an image file at given offsets with
 * copy_file_range(2), so file data moves inside the kernel (one copy, no
 * round trip through Node's buffers). Built by src/util/native.ts.
 *
 *   weld-copy OBJECTS_DIR < PLAN      (stdout is the image, opened for writing)
 *
 * PLAN has one line per object: "RELPATH OFFSET LENGTH\n", RELPATH relative to
 * OBJECTS_DIR. Exit 0 when every range was copied; otherwise 1 and one line
 * on stderr: "weld-copy: RELPATH: ERRNO_NAME: message" (ENOSPC, EIO, …).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
  case ENOSPC: return "ENOSPC";
  case EDQUOT: return "EDQUOT";
  case EIO: return "EIO";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EFBIG: return "EFBIG";
  case EROFS: return "EROFS";
  default: return "EOTHER";
  }
}

static void fail(const char *what, int e) {
  fprintf(stderr, "weld-copy: %s: %s: %s\n", what, errname(e), strerror(e));
  exit(1);
}

/* read + pwrite, for file systems or kernels where copy_file_range cannot serve this pair */
static void copy_slow(int src, off_t from, int dst, off_t at, off_t len, const char *what) {
  static char buf[1 << 20];
  off_t done = 0;
  while (done < len) {
    size_t want = len - done < (off_t)sizeof buf ? (size_t)(len - done) : sizeof buf;
    ssize_t n = pread(src, buf, want, from + done);
    if (n < 0) fail(what, errno);
    if (n == 0) fail(what, EIO); /* object shorter than the catalog says */
    for (ssize_t w = 0; w < n;) {
      ssize_t k = pwrite(dst, buf + w, n - w, at + done + w);
      if (k < 0) fail(what, errno);
      w += k;
    }
    done += n;
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: weld-copy OBJECTS_DIR < PLAN\n");
    return 2;
  }
  /* weld killed mid-link: stop writing into its half-made output at once */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1;
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail(argv[1], errno);
  int fast = 1;
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    char rel[4096];
    long long at, len;
    if (sscanf(line, "%4095s %lld %lld", rel, &at, &len) != 3 || at < 0 || len < 0) {
      fprintf(stderr, "weld-copy: bad plan line: %s", line);
      return 2;
    }
    int src = openat(dir, rel, O_RDONLY | O_CLOEXEC);
    if (src < 0) fail(rel, errno);
    off_t in = 0, out = at, left = len;
    while (fast && left > 0) {
      ssize_t n = copy_file_range(src, &in, 1, &out, left, 0);
      if (n < 0) {
        if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
          fast = 0;
          break;
        }
        fail(rel, errno);
      }
      if (n == 0) fail(rel, EIO);
      left -= n;
    }
    if (left > 0) copy_slow(src, len - left, 1, at + (len - left), left, rel);
    close(src);
  }
  if (ferror(stdin)) fail("plan", errno);
  return 0;
}
