/*
 * kb-sandbox: the small static helper that runs one Dockerfile RUN in fresh namespaces.
 *
 * kb itself is multi-threaded (Bun) and can never unshare(CLONE_NEWUSER); this single-threaded
 * helper does it instead. Build: musl-gcc -static -O2 (scripts/build-helper.sh). No dependencies.
 *
 * Usage:
 *   kb-sandbox run       config on fd 3, status lines on fd 4 (optional)
 *   kb-sandbox xattrs D  print every extended attribute under D (no symlinks followed), and mark
 *                        what the caller cannot read (see _tree-access.c)
 *   kb-sandbox unlock D / relock D / rmtree D   open up / restore / remove what the caller cannot (_tree-access.c)
 *   kb-sandbox version   print "kb-sandbox 1"
 *
 * Config protocol (fd 3, read to EOF): a sequence of records. A record is a key and a fixed number
 * of fields, each NUL-terminated (paths may hold any byte but NUL, so no quoting is needed):
 *   userns 1 ("1" = new user namespace)    uidmap 3 / gidmap 3 (inside outside count; repeatable)
 *   newuidmap 1 / newgidmap 1 (path; when set the maps are written by these setuid tools, else the
 *     helper writes them itself after "deny" to setgroups, which allows a single id only)
 *   net 1 ("host" | "none" | "sandbox": own network namespace, outbound through pasta)
 *   pasta 1 (path) / pastapid 1 (pid file) / dnsforward 1 (address; optional): for net "sandbox"
 *   rootfs 1 (empty mount point)   lower 1 (repeatable, top first)
 *   upper 1   work 1   hostname 1   etc 2 (host file, container path: bound read-only)
 *   bind 3 (source, container path, "ro" | "rw")   tmpfs 2 (container path, mount options)
 *   cwd 1   uid 1   gid 1   group 1 (repeatable)   arg 1 (repeatable)   env 1 (repeatable)
 *   shm 1 (bytes of /dev/shm; default 64 MiB)   rlimit 3 (docker's name, soft, hard; -1 = unlimited; repeatable)
 *   probe 1 ("1" = set everything up, then exit 0 without running anything)
 *
 * Status (fd 4, when open): one line, "exit N", "signal N" or "error <step>: <reason>".
 * Exit code: the command's; 128+N when it was killed by signal N; 125 when the sandbox could not be
 * set up (stderr names the failing step and syscall), 126 not executable, 127 not found.
 *
 * Confinement (_confine.c, decision 100): Docker's 14 capabilities, a seccomp filter (no_new_privs off, as in Docker), runc's
 * masked and read-only /proc paths, read-only /sys, nodev root, /dev and binds.
 *
 * Process tree: helper H (outside) [forks newuidmap/newgidmap mappers and the pasta launcher] -> unshare
 * -> [pasta configures the new network namespace] -> fork P, pid 1
 * of the new pid namespace, which mounts, pivots and execs the command. SIGKILL to H kills P
 * (PR_SET_PDEATHSIG), and when P exits the kernel kills everything else in the namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <grp.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#define MAXV 4096
typedef struct { char *v[MAXV]; int n; } list_t;

static list_t lowers, args, envs, groups, uidmaps, gidmaps, etcs, binds, tmpfss, rlimits;
static char *shm_size, *rootfs, *upper, *work, *hostname, *cwd = "/", *newuidmap, *newgidmap, *pasta, *pasta_pidfile, *dns_forward, *netns_path;
static int userns, net_none, net_sandbox, probe, uid, gid, statusfd = -1;
static pid_t child = -1;

static void status(const char *fmt, const char *s, long n) {
  char buf[1024];
  int len = s ? snprintf(buf, sizeof buf, fmt, s) : snprintf(buf, sizeof buf, fmt, n);
  if (statusfd >= 0 && len > 0) { ssize_t w = write(statusfd, buf, (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1); (void)w; }
}

/* A setup step failed: name it, with the errno text, on stderr and the status fd; exit 125. */
static void die(const char *step, const char *what) {
  char msg[900];
  snprintf(msg, sizeof msg, "%s%s%s: %s", step, what ? " " : "", what ? what : "", strerror(errno));
  dprintf(2, "kb-sandbox: %s\n", msg);
  status("error %s\n", msg, 0);
  _exit(125);
}

static void push(list_t *l, char *s) {
  if (l->n >= MAXV - 1) { errno = E2BIG; die("read config", "too many values"); }
  l->v[l->n++] = s; l->v[l->n] = NULL;
}

static void modes_add(const char *p, const char *octal);

/* Reads the records; `for_run` = 1 requires what `run` needs (unlock/relock need only the id maps). */
static void read_config(int fd, int for_run) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len == cap) { cap *= 2; buf = realloc(buf, cap); if (!buf) die("read config", "(out of memory)"); }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read config from fd", "3");
    if (r == 0) break;
    len += (size_t)r;
  }
  close(fd);
  char *f[4]; size_t i = 0;
  while (i < len) {
    int want = -1, k = 0;
    char *key = buf + i;
    i += strlen(key) + 1;
    if (!strcmp(key, "uidmap") || !strcmp(key, "gidmap") || !strcmp(key, "bind") || !strcmp(key, "rlimit")) want = 3;
    else if (!strcmp(key, "etc") || !strcmp(key, "tmpfs") || !strcmp(key, "mode")) want = 2;
    else want = 1;
    for (; k < want; k++) {
      if (i >= len) { errno = EINVAL; die("read config: truncated record", key); }
      f[k] = buf + i; i += strlen(f[k]) + 1;
    }
    if (!strcmp(key, "userns")) userns = f[0][0] == '1';
    else if (!strcmp(key, "uidmap")) { push(&uidmaps, f[0]); push(&uidmaps, f[1]); push(&uidmaps, f[2]); }
    else if (!strcmp(key, "gidmap")) { push(&gidmaps, f[0]); push(&gidmaps, f[1]); push(&gidmaps, f[2]); }
    else if (!strcmp(key, "newuidmap")) newuidmap = f[0];
    else if (!strcmp(key, "newgidmap")) newgidmap = f[0];
    else if (!strcmp(key, "net")) { net_none = !strcmp(f[0], "none"); net_sandbox = !strcmp(f[0], "sandbox"); }
    else if (!strcmp(key, "pasta")) pasta = f[0];
    else if (!strcmp(key, "pastapid")) pasta_pidfile = f[0];
    else if (!strcmp(key, "dnsforward")) dns_forward = f[0];
    else if (!strcmp(key, "netns")) netns_path = f[0];
    else if (!strcmp(key, "rootfs")) rootfs = f[0];
    else if (!strcmp(key, "lower")) push(&lowers, f[0]);
    else if (!strcmp(key, "upper")) upper = f[0];
    else if (!strcmp(key, "work")) work = f[0];
    else if (!strcmp(key, "hostname")) hostname = f[0];
    else if (!strcmp(key, "etc")) { push(&etcs, f[0]); push(&etcs, f[1]); }
    else if (!strcmp(key, "bind")) { push(&binds, f[0]); push(&binds, f[1]); push(&binds, f[2]); }
    else if (!strcmp(key, "tmpfs")) { push(&tmpfss, f[0]); push(&tmpfss, f[1]); }
    else if (!strcmp(key, "rlimit")) { push(&rlimits, f[0]); push(&rlimits, f[1]); push(&rlimits, f[2]); }
    else if (!strcmp(key, "shm")) {
      if (strspn(f[0], "0123456789") != strlen(f[0]) || !*f[0]) { errno = EINVAL; die("read config: bad shm size", f[0]); }
      shm_size = f[0];
    }
    else if (!strcmp(key, "cwd")) cwd = f[0];
    else if (!strcmp(key, "uid")) uid = atoi(f[0]);
    else if (!strcmp(key, "gid")) gid = atoi(f[0]);
    else if (!strcmp(key, "group")) push(&groups, f[0]);
    else if (!strcmp(key, "arg")) push(&args, f[0]);
    else if (!strcmp(key, "env")) push(&envs, f[0]);
    else if (!strcmp(key, "probe")) probe = f[0][0] == '1';
    else if (!strcmp(key, "mode")) modes_add(f[0], f[1]);
    else { errno = EINVAL; die("read config: unknown key", key); }
  }
  if (!for_run) return;
  if (!rootfs || !upper || !work || lowers.n == 0) { errno = EINVAL; die("read config", "(rootfs, upper, work and lower are required)"); }
  if (args.n == 0 && !probe) { errno = EINVAL; die("read config", "(no command: arg is required)"); }
  if (net_sandbox && !netns_path && (!pasta || !pasta_pidfile)) { errno = EINVAL; die("read config", "(net sandbox needs pasta and pastapid)"); }
}

/* Writes "inside outside count" lines to /proc/self/{uid,gid}_map (single-id rootless or root). */
static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die("write", path);
  close(fd);
}

static void write_map_self(const char *path, list_t *m) {
  char text[4096]; size_t o = 0;
  for (int i = 0; i + 2 < m->n; i += 3)
    o += (size_t)snprintf(text + o, sizeof text - o, "%s %s %s\n", m->v[i], m->v[i + 1], m->v[i + 2]);
  text[o] = 0;
  write_file(path, text);
}

/* Forks a mapper that waits for one byte on a pipe, then execs newuidmap/newgidmap on `target`. */
static pid_t fork_mapper(const char *tool, list_t *m, pid_t target, int *wfd) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) die("pipe", NULL);
  pid_t pid = fork();
  if (pid < 0) die("fork", tool);
  if (pid == 0) {
    char c, pidbuf[24], *av[3 + MAXV];
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(p[1]);
    if (read(p[0], &c, 1) != 1) _exit(1);
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)target);
    int n = 0; av[n++] = (char *)tool; av[n++] = pidbuf;
    for (int i = 0; i < m->n; i++) av[n++] = m->v[i];
    av[n] = NULL;
    execv(tool, av);
    dprintf(2, "kb-sandbox: exec %s: %s\n", tool, strerror(errno));
    _exit(127);
  }
  close(p[0]);
  *wfd = p[1];
  return pid;
}

static void wait_mapper(pid_t pid, const char *tool) {
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { errno = EPERM; die("map ids with", tool); }
}

static void setup_userns(void) {
  pid_t self = getpid();
  int ufd = -1, gfd = -1;
  pid_t um = -1, gm = -1;
  if (newuidmap) um = fork_mapper(newuidmap, &uidmaps, self, &ufd);
  if (newgidmap) gm = fork_mapper(newgidmap, &gidmaps, self, &gfd);
  if (unshare(CLONE_NEWUSER) < 0) die("unshare", "CLONE_NEWUSER");
  if (um > 0) { if (write(ufd, "x", 1) != 1) die("signal", newuidmap); close(ufd); wait_mapper(um, newuidmap); }
  else write_map_self("/proc/self/uid_map", &uidmaps);
  if (gm > 0) { if (write(gfd, "x", 1) != 1) die("signal", newgidmap); close(gfd); wait_mapper(gm, newgidmap); }
  else { write_file("/proc/self/setgroups", "deny"); write_map_self("/proc/self/gid_map", &gidmaps); }
  if (setresgid(0, 0, 0) < 0) die("setresgid", "0");
  if (setresuid(0, 0, 0) < 0) die("setresuid", "0");
}

static char *in_root(const char *p) {
  static char bufs[4][4096]; static int k;
  char *b = bufs[k++ & 3];
  snprintf(b, 4096, "%s/%s", rootfs, p[0] == '/' ? p + 1 : p);
  return b;
}

static unsigned long locked_flags(const char *p);
static int remount_ro(const char *p);

/* Bind-mounts src on dst, then remounts it nosuid,nodev (read-only when `ro`), repeating the flags
 * the kernel locks in a user namespace: a device node or setuid file made through a bind never works. */
static int bind_mount(const char *src, const char *dst, int ro, int rec) {
  if (mount(src, dst, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0) return -1;
  if (ro) return remount_ro(dst);
  return mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | locked_flags(dst), NULL);
}

static void mount_overlay(void) {
  char opts[8192]; size_t o = 0;
  o += (size_t)snprintf(opts + o, sizeof opts - o, "lowerdir=");
  for (int i = 0; i < lowers.n; i++) {
    if (strpbrk(lowers.v[i], ",:")) { errno = EINVAL; die("mount overlay: a lower dir holds ',' or ':'", lowers.v[i]); }
    o += (size_t)snprintf(opts + o, sizeof opts - o, "%s%s", i ? ":" : "", lowers.v[i]);
  }
  o += (size_t)snprintf(opts + o, sizeof opts - o, ",upperdir=%s,workdir=%s%s", upper, work, userns ? ",userxattr" : ",redirect_dir=off,index=off,metacopy=off");
  if (o >= 4095) { errno = E2BIG; die("mount overlay: options exceed one page", "(too many or too long lower dirs)"); }
  if (mount("overlay", rootfs, "overlay", MS_NODEV, opts) < 0) die("mount overlay on", rootfs);
}

static void mount_dev(void) {
  static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
  char src[64];
  if (mount("tmpfs", in_root("/dev"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=65536k") < 0) die("mount tmpfs on", in_root("/dev"));
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s%s", in_root("/dev/"), nodes[i]);
    snprintf(src, sizeof src, "/dev/%s", nodes[i]);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) die("create", path);
    close(fd);
    if (mount(src, path, NULL, MS_BIND, NULL) < 0 && strcmp(nodes[i], "tty") != 0) die("bind-mount", src);
  }
  mkdir(in_root("/dev/pts"), 0755);
  mkdir(in_root("/dev/shm"), 01777);
  if (mount("devpts", in_root("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") == 0)
    if (symlink("pts/ptmx", in_root("/dev/ptmx")) < 0) die("symlink", "/dev/ptmx");
  /* Docker's default /dev/shm; with --shm-size, BuildKit's tmpfs mount of that size (nosuid, nodev: no noexec). */
  char shm_opts[64];
  snprintf(shm_opts, sizeof shm_opts, "mode=1777,size=%s", shm_size ? shm_size : "65536k");
  if (mount("shm", in_root("/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV | (shm_size ? 0 : MS_NOEXEC), shm_opts) < 0) die("mount tmpfs on", "/dev/shm");
  /* The RUN's own IPC namespace's POSIX message queues, as runc mounts them; where the kernel refuses, none. */
  mkdir(in_root("/dev/mqueue"), 01777);
  if (mount("mqueue", in_root("/dev/mqueue"), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) rmdir(in_root("/dev/mqueue"));
  if (symlink("/proc/self/fd", in_root("/dev/fd")) < 0 || symlink("/proc/self/fd/0", in_root("/dev/stdin")) < 0 ||
      symlink("/proc/self/fd/1", in_root("/dev/stdout")) < 0 || symlink("/proc/self/fd/2", in_root("/dev/stderr")) < 0)
    die("symlink", "/dev/fd");
}

#include "_confine.c"

/* A bind target inside the sandbox's own /dev tmpfs (BuildKit's /dev/pipes/NAME for a RUN heredoc that starts
 * with #!) cannot come from the stub layer, which that tmpfs covers: its dirs and file are made here. */
static void make_dev_point(const char *target) {
  if (strncmp(target, "/dev/", 5) != 0 || strstr(target, "/.")) return;
  char p[4200];
  snprintf(p, sizeof p, "%s", in_root(target));
  for (char *s = p + strlen(in_root("/dev/")); *s; s++)
    if (*s == '/') {
      struct stat st;
      *s = 0;
      if ((mkdir(p, 0755) < 0 && errno != EEXIST) || lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) die("make a directory (not through a link)", p);
      *s = '/';
    }
  int fd = open(p, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) die("create mount point", p);
  close(fd);
}

static void must_exist(const char *p, const char *what) {
  struct stat st;
  if (lstat(p, &st) < 0) die(what, p);
}

static void setup_mounts(void) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make mounts private", "/");
  mount_overlay();
  must_exist(in_root("/proc"), "find mount point");
  if (mount("proc", in_root("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 &&
      bind_mount("/proc", in_root("/proc"), 0, 1) < 0)
    die("mount proc (and rbind /proc) on", in_root("/proc"));
  must_exist(in_root("/dev"), "find mount point");
  mount_dev();
  mount_sys();
  mask_paths();
  for (int i = 0; i + 1 < etcs.n; i += 2) {
    must_exist(in_root(etcs.v[i + 1]), "find mount point");
    if (bind_mount(etcs.v[i], in_root(etcs.v[i + 1]), 1, 0) < 0) die("bind-mount read-only", etcs.v[i + 1]);
  }
  for (int i = 0; i + 2 < binds.n; i += 3) {
    make_dev_point(binds.v[i + 1]);
    must_exist(in_root(binds.v[i + 1]), "find mount point");
    if (bind_mount(binds.v[i], in_root(binds.v[i + 1]), !strcmp(binds.v[i + 2], "ro"), 1) < 0) die("bind-mount", binds.v[i]);
  }
  for (int i = 0; i + 1 < tmpfss.n; i += 2) {
    must_exist(in_root(tmpfss.v[i]), "find mount point");
    if (mount("tmpfs", in_root(tmpfss.v[i]), "tmpfs", MS_NOSUID | MS_NODEV, tmpfss.v[i + 1]) < 0) die("mount tmpfs on", tmpfss.v[i]);
  }
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("query interface", "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("bring up interface", "lo");
  close(s);
}

/* --ulimit: docker's names (go-units) to resources. A hard limit above the helper's is raised first (raise_only, in
 * cmd_run before any namespace: only there does root hold CAP_SYS_RESOURCE over the initial user namespace); pid 1
 * sets the values right before the command starts, where lowering needs no capability. */
static void set_rlimits(int raise_only) {
  static const struct { const char *name; int res; } names[] = {
    {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA}, {"fsize", RLIMIT_FSIZE}, {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC}, {"rss", RLIMIT_RSS}, {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},
    {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
  };
  for (int i = 0; i + 2 < rlimits.n; i += 3) {
    int res = -1;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) if (!strcmp(names[k].name, rlimits.v[i])) res = names[k].res;
    if (res < 0) { errno = EINVAL; die("set --ulimit: unknown limit", rlimits.v[i]); }
    long long soft = atoll(rlimits.v[i + 1]), hard = atoll(rlimits.v[i + 2]);
    struct rlimit want = { soft < 0 ? RLIM_INFINITY : (rlim_t)soft, hard < 0 ? RLIM_INFINITY : (rlim_t)hard }, now;
    if (raise_only) {
      if (getrlimit(res, &now) < 0 || now.rlim_max == RLIM_INFINITY || (want.rlim_max != RLIM_INFINITY && want.rlim_max <= now.rlim_max)) continue;
      now.rlim_max = want.rlim_max;
      if (setrlimit(res, &now) < 0) die("raise the hard limit of --ulimit", rlimits.v[i]);
    } else if (setrlimit(res, &want) < 0) die("set --ulimit", rlimits.v[i]);
  }
}

/* Capabilities Docker grants a RUN by default; everything else leaves the bounding set. */
static void drop_caps(void) {
  static const int keep[] = {0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31};
  for (int c = 0; c < 64; c++) {
    int k = 0;
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) k |= keep[i] == c;
    if (!k && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno == EINVAL) break;
  }
}

static void exec_command(void) {
  const char *path = NULL;
  for (int i = 0; i < envs.n; i++) if (!strncmp(envs.v[i], "PATH=", 5)) path = envs.v[i] + 5;
  /* The same default as DEFAULT_PATH in src/engine/core/stage-state.ts (kb always passes PATH; this is the fallback). */
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int err = ENOENT;
  if (strchr(args.v[0], '/')) { execve(args.v[0], args.v, envs.v); err = errno; }
  else {
    char full[4200];
    for (const char *p = path; *p;) {
      const char *e = strchr(p, ':');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? p : ".", args.v[0]);
      execve(full, args.v, envs.v);
      if (errno != ENOENT && errno != ENOTDIR) err = errno;
      p += n + (e ? 1 : 0);
      if (!e) break;
    }
  }
  errno = err;
  dprintf(2, "kb-sandbox: exec \"%s\": %s\n", args.v[0], strerror(err));
  status("error exec: %s\n", strerror(err), 0);
  _exit(err == ENOENT ? 127 : 126);
}

static void run_pid1(void) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setup_mounts();
  if (hostname && sethostname(hostname, strlen(hostname)) < 0) die("sethostname", hostname);
  if (net_none || (net_sandbox && !netns_path)) loopback_up();
  if (probe) _exit(0);
  if (chdir(rootfs) < 0) die("chdir", rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root", rootfs);
  if (umount2(".", MNT_DETACH) < 0) die("detach old root", NULL);
  if (chdir("/") < 0 || chdir(cwd) < 0) die("chdir to the working directory", cwd);
  set_rlimits(0);
  drop_caps();
  confine_process();
  gid_t gl[MAXV];
  for (int i = 0; i < groups.n; i++) gl[i] = (gid_t)atoi(groups.v[i]);
  /* In a single-id user namespace setgroups is denied: there are no other groups to join, so go on. */
  if (setgroups((size_t)groups.n, gl) < 0 && errno != EPERM) die("setgroups", NULL);
  if (setresgid(gid, gid, gid) < 0) die("setgid", NULL);
  if (setresuid(uid, uid, uid) < 0) die("setuid", NULL);
  umask(022);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* credential changes clear it: set it again right before exec */
  exec_command();
}

#include "_network.c"

static void relay(int sig) { (void)sig; if (child > 0) kill(child, SIGKILL); }

static int cmd_run(void) {
  if (fcntl(4, F_GETFD) >= 0) { statusfd = 4; fcntl(4, F_SETFD, FD_CLOEXEC); }
  read_config(3, 1);
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(125);
  int pasta_sock = -1;
  int own_pasta = net_sandbox && !netns_path;
  pid_t launcher = own_pasta ? fork_pasta(&pasta_sock) : -1;
  if (netns_path) { /* the build's network namespace, already configured by a held pasta (root mode) */
    int fd = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) die("join the network namespace", netns_path);
    close(fd);
  }
  set_rlimits(1);
  if (userns) setup_userns();
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | (net_none || own_pasta ? CLONE_NEWNET : 0);
  if (unshare(flags) < 0) die("unshare", "CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = relay;
  sigaction(SIGINT, &sa, NULL); sigaction(SIGTERM, &sa, NULL); sigaction(SIGHUP, &sa, NULL); sigaction(SIGQUIT, &sa, NULL);
  pid_t pasta_pid = own_pasta ? start_pasta(launcher, pasta_sock) : -1; /* the network is ready before pid 1 exists */
  child = fork();
  if (child < 0) die("fork", "pid 1");
  if (child == 0) run_pid1();
  int st;
  while (waitpid(child, &st, 0) < 0) if (errno != EINTR) die("waitpid", NULL);
  if (pasta_pid > 0) { kill(pasta_pid, SIGTERM); while (waitpid(pasta_pid, NULL, 0) < 0 && errno == EINTR) {} }
  if (WIFSIGNALED(st)) { status("signal %ld\n", NULL, WTERMSIG(st)); return 128 + WTERMSIG(st); }
  if (WEXITSTATUS(st) != 125 || probe) status("exit %ld\n", NULL, WEXITSTATUS(st));
  return WEXITSTATUS(st);
}

#include "_tree-access.c"

static void modes_add(const char *p, const char *octal) {
  char *end;
  long m = strtol(octal, &end, 8);
  if (!*octal || *end || m < 0 || m > 07777) { errno = EINVAL; die("read config: bad mode for", p); }
  modes_push(&saved, p, (mode_t)m);
}

static size_t xroot_len;
static int print_xattrs(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)ftw;
  mark_unreadable(path, sb, type);
  static char names[65536], val[65536];
  ssize_t n = llistxattr(path, names, sizeof names);
  const char *rel = path[xroot_len] ? path + xroot_len + 1 : ".";
  for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
    ssize_t v = lgetxattr(path, names + i, val, sizeof val);
    if (v < 0) continue;
    fputs(rel, stdout); putchar(0); fputs(names + i, stdout); putchar(0);
    for (ssize_t j = 0; j < v; j++) printf("%02x", (unsigned char)val[j]);
    putchar(0);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "version")) { puts("kb-sandbox 1"); return 0; }
  if (argc >= 2 && !strcmp(argv[1], "run")) return cmd_run();
  if (argc >= 2 && !strcmp(argv[1], "netns-hold")) return cmd_netns_hold();
  if (argc >= 3 && !strcmp(argv[1], "xattrs")) {
    xroot_len = strlen(argv[2]);
    while (xroot_len > 1 && argv[2][xroot_len - 1] == '/') argv[2][--xroot_len] = 0;
    root_len = xroot_len;
    who_am_i(0);
    if (nftw(argv[2], print_xattrs, 32, FTW_PHYS) < 0) { dprintf(2, "kb-sandbox: walk %s: %s\n", argv[2], strerror(errno)); return 125; }
    return fflush(stdout) == 0 ? 0 : 125;
  }
  if (argc >= 3 && (!strcmp(argv[1], "unlock") || !strcmp(argv[1], "relock") || !strcmp(argv[1], "rmtree"))) {
    size_t n = strlen(argv[2]);
    while (n > 1 && argv[2][n - 1] == '/') argv[2][--n] = 0;
    if (fcntl(3, F_GETFD) < 0) { dprintf(2, "kb-sandbox: %s: no config on fd 3\n", argv[1]); return 125; }
    return argv[1][0] == 'u' ? cmd_unlock(argv[2]) : argv[1][0] == 'r' && argv[1][1] == 'e' ? cmd_relock(argv[2]) : cmd_rmtree(argv[2]);
  }
  dprintf(2, "usage: kb-sandbox run (config on fd 3) | kb-sandbox xattrs DIR | kb-sandbox unlock|relock|rmtree DIR (config on fd 3) | kb-sandbox version\n");
  return 125;
}
