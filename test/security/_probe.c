/*
 * Escape attempts made from inside a RUN (built static by test/security/_probe.ts, copied into the rootfs).
 * Usage: probe HOST_PID HOST_PORT
 * Prints one line per attempt: "name<TAB>confined|ESCAPED<TAB>detail". Nothing here changes the host when
 * confinement fails: sysctls are written back with their current value, syscalls get arguments the kernel
 * rejects with another errno than EPERM (so EPERM means "refused before the kernel looked").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void report(const char *name, int escaped, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static void report(const char *name, int escaped, const char *fmt, ...) {
  char d[512]; va_list ap; va_start(ap, fmt); vsnprintf(d, sizeof d, fmt, ap); va_end(ap);
  for (char *c = d; *c; c++) if (*c == '\t' || *c == '\n') *c = ' ';
  printf("%s\t%s\t%s\n", name, escaped ? "ESCAPED" : "confined", d);
  fflush(stdout);
}

/* Reads the value and writes the same bytes back: a success is an escape that changed nothing. */
static void write_back(const char *name, const char *path) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) { report(name, 0, "read %s: %s", path, strerror(errno)); return; }
  ssize_t n = read(fd, buf, sizeof buf - 1); close(fd);
  if (n <= 0) { report(name, 0, "read %s: empty", path); return; }
  fd = open(path, O_WRONLY);
  if (fd < 0) { report(name, 0, "open %s for writing: %s", path, strerror(errno)); return; }
  ssize_t w = write(fd, buf, (size_t)n); int e = errno; close(fd);
  if (w < 0) report(name, 0, "write %s: %s", path, strerror(e));
  else report(name, 1, "wrote %s (same value back)", path);
}

static void open_for_write(const char *name, const char *path) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) { report(name, 0, "open %s for writing: %s", path, strerror(errno)); return; }
  close(fd);
  report(name, 1, "opened %s for writing (nothing written)", path);
}

/* `rc` < 0 with errno EPERM/EACCES/ENOSYS: refused. */
static void refused(const char *name, long rc, const char *what) {
  int e = errno;
  if (rc < 0 && (e == EPERM || e == EACCES || e == ENOSYS)) report(name, 0, "%s: %s", what, strerror(e));
  else report(name, 1, "%s: %s", what, rc < 0 ? strerror(e) : "succeeded");
}

static void mknod_open(const char *name, const char *dir) {
  char p[256];
  snprintf(p, sizeof p, "%s/kb-probe-blk", dir);
  unlink(p);
  if (mknod(p, S_IFBLK | 0600, makedev(7, 0)) < 0) { report(name, 0, "mknod %s: %s", p, strerror(errno)); return; }
  int fd = open(p, O_RDONLY);
  int e = errno;
  unlink(p);
  if (fd < 0) report(name, 0, "mknod ok, open %s: %s", p, strerror(e));
  else { close(fd); report(name, 1, "opened block device 7,0 at %s", p); }
}

static void read_kcore(void) {
  char b[16];
  int fd = open("/proc/kcore", O_RDONLY);
  if (fd < 0) { report("read /proc/kcore", 0, "open: %s", strerror(errno)); return; }
  ssize_t n = read(fd, b, sizeof b); close(fd);
  if (n > 0) report("read /proc/kcore", 1, "read %zd bytes", n);
  else report("read /proc/kcore", 0, "masked: read gives %zd bytes", n);
}

static void host_process(pid_t host) {
  long r = kill(host, 0);
  if (r == 0) { report("kill a host process", 1, "kill(%d, 0) succeeded", host); }
  else report("kill a host process", 0, "kill(%d, 0): %s", host, strerror(errno));
  r = ptrace(PTRACE_ATTACH, host, 0, 0);
  if (r == 0) { ptrace(PTRACE_DETACH, host, 0, 0); report("ptrace a host process", 1, "attached to %d", host); }
  else report("ptrace a host process", 0, "ptrace(ATTACH, %d): %s", host, strerror(errno));
}

static void host_loopback(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0) { report("reach host 127.0.0.1", 0, "socket: %s", strerror(errno)); return; }
  if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) report("reach host 127.0.0.1", 1, "connected to 127.0.0.1:%d", port);
  else report("reach host 127.0.0.1", 0, "connect 127.0.0.1:%d: %s", port, strerror(errno));
  close(s);
}

static void status_line(void) {
  char buf[4096]; int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) { report("seccomp and bounding set", 1, "cannot read /proc/self/status"); return; }
  buf[n] = 0;
  char *nnp = strstr(buf, "NoNewPrivs:"), *bnd = strstr(buf, "CapBnd:"), *sec = strstr(buf, "Seccomp:");
  unsigned long long caps = bnd ? strtoull(bnd + 7, NULL, 16) : ~0ull;
  /* no_new_privs is off, as in Docker (a setuid sudo works for USER app): it gives no more than USER root gives. */
  int ok = sec && atoi(sec + 8) == 2 && caps == 0xa80425fbull;
  report("seccomp and bounding set", !ok, "Seccomp %d CapBnd %llx (NoNewPrivs %d)", sec ? atoi(sec + 8) : -1, caps, nnp ? atoi(nnp + 11) : -1);
}

int main(int argc, char **argv) {
  pid_t host = argc > 1 ? atoi(argv[1]) : 1;
  int port = argc > 2 ? atoi(argv[2]) : 0;
  write_back("write /proc/sys/fs/lease-break-time", "/proc/sys/fs/lease-break-time");
  write_back("write /proc/sys/kernel/core_pattern", "/proc/sys/kernel/core_pattern");
  open_for_write("write /proc/sysrq-trigger", "/proc/sysrq-trigger");
  open_for_write("write /sys", access("/sys/kernel/uevent_helper", F_OK) == 0 ? "/sys/kernel/uevent_helper" : "/sys/kernel/profiling");
  read_kcore();
  mknod_open("mknod+open block device in /", "");
  mknod_open("mknod+open block device in /dev", "/dev");
  refused("mount tmpfs", mount("tmpfs", "/tmp", "tmpfs", 0, NULL), "mount");
  refused("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0), "keyctl");
  refused("add_key", syscall(SYS_add_key, "user", "kb", "x", 1, -3), "add_key");
  refused("unshare user namespace", unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
  refused("unshare mount namespace", unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
  refused("init_module", syscall(SYS_init_module, NULL, 0, ""), "init_module(NULL)");
  refused("kexec_load", syscall(SYS_kexec_load, 0, 100000, NULL, 0), "kexec_load(too many segments)");
  refused("bpf", syscall(SYS_bpf, 9999, NULL, 0), "bpf(bad command)");
  refused("swapoff", syscall(SYS_swapoff, "/nonexistent"), "swapoff");
  refused("clock_settime", syscall(SYS_clock_settime, 9999, NULL), "clock_settime(bad clock)");
  refused("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0), "open_by_handle_at(bad fd)");
  refused("pivot_root", syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"), "pivot_root");
  host_process(host);
  if (port > 0) host_loopback(port);
  status_line();
  return 0;
}
