/*
 * _confine.c (included by kb-sandbox.c): Docker's default confinement of a build step.
 *   - runc's maskedPaths / readonlyPaths over the fresh /proc (and /sys/firmware)
 *   - /sys read-only (a fresh read-only sysfs, else a recursive bind remounted read-only mount by mount)
 *   - a seccomp filter equal in effect to Docker's default profile for the syscalls a build step must
 *     never make (see docs/security.md for the list and the reasons); no_new_privs stays off, as in Docker.
 * The bounding set is cut in drop_caps() (kb-sandbox.c).
 */
#include <stddef.h>
#include <stdint.h>

/* The few kernel ABI constants this needs, spelled out: musl-gcc has no linux/ headers. */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
struct seccomp_data { int nr; uint32_t arch; uint64_t instruction_pointer; uint64_t args[6]; };
#define BPF_LD 0x00
#define BPF_W 0x00
#define BPF_ABS 0x20
#define BPF_JMP 0x05
#define BPF_JEQ 0x10
#define BPF_JGE 0x30
#define BPF_JSET 0x40
#define BPF_K 0x00
#define BPF_RET 0x06
#define BPF_STMT(c, kk) {(uint16_t)(c), 0, 0, (uint32_t)(kk)}
#define BPF_JUMP(c, kk, t, f) {(uint16_t)(c), (uint8_t)(t), (uint8_t)(f), (uint32_t)(kk)}
#define SECCOMP_MODE_FILTER 2
#define SECCOMP_RET_ALLOW 0x7fff0000u
#define SECCOMP_RET_ERRNO 0x00050000u
#define AUDIT_ARCH_X86_64 0xc000003eu
#define AUDIT_ARCH_AARCH64 0xc00000b7u

static const char *masked_files[] = {
  "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
  "/proc/timer_stats", "/proc/interrupts", NULL,
};
static const char *masked_dirs[] = {"/proc/acpi", "/proc/scsi", "/sys/firmware", "/proc/asound", NULL};
static const char *readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

/* Flags of the mount at `p` that a remount must repeat (the kernel locks them in a user namespace). */
static unsigned long locked_flags(const char *p) {
  struct statvfs sv;
  unsigned long fl = 0;
  if (statvfs(p, &sv) != 0) return 0;
  if (sv.f_flag & ST_NOSUID) fl |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) fl |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) fl |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) fl |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) fl |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) fl |= MS_RELATIME;
  if (sv.f_flag & ST_RDONLY) fl |= MS_RDONLY;
  return fl;
}

/* Remounts the bind mount at `p` read-only (and nosuid, nodev), keeping its locked flags. */
static int remount_ro(const char *p) {
  return mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | locked_flags(p), NULL);
}

static void mask_paths(void) {
  struct stat st;
  for (int i = 0; masked_files[i]; i++) {
    const char *p = in_root(masked_files[i]);
    if (lstat(p, &st) < 0) continue;
    if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) die("mask", masked_files[i]);
  }
  for (int i = 0; masked_dirs[i]; i++) {
    const char *p = in_root(masked_dirs[i]);
    if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) continue;
    if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") < 0) die("mask", masked_dirs[i]);
  }
  for (int i = 0; readonly_paths[i]; i++) {
    const char *p = in_root(readonly_paths[i]);
    if (lstat(p, &st) < 0) continue;
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 || remount_ro(p) < 0) die("make read-only", readonly_paths[i]);
  }
}

/* Read-only /sys: a fresh sysfs when this network namespace is ours; else rbind the host's and
 * remount every mount under it read-only (refusing to go on if one stays writable). */
static void mount_sys(void) {
  const char *dst = in_root("/sys");
  struct stat st;
  if (lstat(dst, &st) < 0) return;
  if (mount("sysfs", dst, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return;
  if (bind_mount("/sys", dst, 0, 1) < 0) die("bind-mount", "/sys");
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) die("read", "/proc/self/mountinfo");
  char line[8192];
  size_t dl = strlen(dst);
  while (fgets(line, sizeof line, f)) {
    char mp[4096];
    /* "id parent major:minor root mountpoint ..." (octal escapes in the mount point) */
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
    char un[4096]; size_t o = 0;
    for (char *c = mp; *c && o < sizeof un - 1; c++) {
      if (c[0] == '\\' && c[1] >= '0' && c[1] <= '7' && c[2] && c[3]) { un[o++] = (char)strtol((char[]){c[1], c[2], c[3], 0}, NULL, 8); c += 3; }
      else un[o++] = *c;
    }
    un[o] = 0;
    if (strncmp(un, dst, dl) != 0 || (un[dl] != 0 && un[dl] != '/')) continue;
    if (remount_ro(un) < 0) die("make read-only", un);
  }
  fclose(f);
}

/* ---- seccomp ---- */

#if defined(__x86_64__)
#define KB_AUDIT_ARCH AUDIT_ARCH_X86_64
#define KB_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define KB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SYS_fspick 433
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/* Refused with EPERM, as Docker's default profile does for a container without CAP_SYS_ADMIN and friends. */
static const int denied[] = {
  SYS_mount, SYS_umount2, SYS_pivot_root, SYS_kexec_load, SYS_kexec_file_load,
  SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_keyctl, SYS_add_key, SYS_request_key,
  SYS_bpf, SYS_perf_event_open, SYS_swapon, SYS_swapoff, SYS_reboot, SYS_settimeofday, SYS_clock_settime,
  SYS_clock_adjtime, SYS_acct, SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_unshare, SYS_setns,
  SYS_userfaultfd, SYS_quotactl, SYS_syslog, SYS_vhangup, SYS_fanotify_init, SYS_lookup_dcookie,
  SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_mount_setattr,
#if defined(__x86_64__)
  SYS_iopl, SYS_ioperm, SYS_create_module, SYS_get_kernel_syms, SYS_query_module, SYS_uselib, SYS__sysctl,
  SYS_nfsservctl,
#endif
};

/* clone with any CLONE_NEW* flag (Docker's mask 0x7E020000) is refused; clone3 answers ENOSYS so libc falls back to clone. */
#define KB_CLONE_NS_MASK 0x7E020000u

static void install_seccomp(void) {
#ifdef KB_AUDIT_ARCH
  struct sock_filter f[128];
  unsigned short n = 0;
  const size_t nd = sizeof denied / sizeof *denied;
#define S(code, k) f[n++] = (struct sock_filter)BPF_STMT(code, k)
#define J(code, k, jt, jf) f[n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf)
  /* another ABI (i386 int 0x80, arm32): refused outright, its numbers differ */
  S(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  J(BPF_JMP | BPF_JEQ | BPF_K, KB_AUDIT_ARCH, 1, 0);
  S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  S(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef KB_X32_BIT
  J(BPF_JMP | BPF_JGE | BPF_K, KB_X32_BIT, 0, 1); /* x32 numbers have bit 30 set */
  S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
#endif
  for (size_t i = 0; i < nd; i++) {
    J(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
    S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  }
  J(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
  S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  J(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
  S(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])); /* low 32 bits of the flags */
  J(BPF_JMP | BPF_JSET | BPF_K, KB_CLONE_NS_MASK, 0, 1);
  S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
  S(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef S
#undef J
  struct sock_fprog prog = {.len = n, .filter = f};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) die("install seccomp filter", NULL);
#else
#error "kb-sandbox: no seccomp filter for this architecture"
#endif
}

/*
 * The filter, installed while the helper still holds CAP_SYS_ADMIN (root, or root of the user namespace), before
 * the ids change: runc's order when no_new_privs is off, which is Docker's default for a build step. A setuid or
 * file-capability program in the image (sudo, ping) then works for USER app as it does under Docker, and can give
 * no more than the 14 capabilities that USER root gives any Dockerfile (docs/decisions/100-run-confinement.md).
 */
static void confine_process(void) {
  install_seccomp();
}
