/*
 * Included by kb-sandbox.c: reading a RUN's upperdir when kb (the caller) cannot.
 *
 * After a rootless RUN the upperdir may hold entries owned by subordinate ids with modes that shut the
 * caller out (apt's 0700 partial/ dir owned by _apt). Outside the user namespace the caller cannot list
 * or read them; inside it, as the namespace's root, it can (CAP_DAC_OVERRIDE over mapped ids).
 *
 *   kb-sandbox xattrs D   also prints "PATH\0\0\0" (an empty attribute name) for each dir the caller
 *                         cannot list and each regular file it cannot read (one extra record, no syscall)
 *   kb-sandbox unlock D   config on fd 3 (userns, uidmap, gidmap, newuidmap, newgidmap): enters a user
 *                         namespace with that map and, as its root, adds read (and search, for dirs) to
 *                         the permission class the caller falls in, for every entry it cannot read.
 *                         Prints "PATH\0OCTAL-MODE\0" with the entry's mode before the change.
 *   kb-sandbox relock D   config on fd 3 as for unlock plus "mode PATH OCTAL" records: puts those modes
 *                         back (setuid, setgid and sticky bits included). Symlinks are never touched.
 *   kb-sandbox rmtree D   config on fd 3 as for unlock: removes D and everything in it as the namespace's
 *                         root (a failed rootless RUN can leave dirs the caller can neither enter nor empty)
 * PATH is relative to D ("." for D itself). Exit 0, or 125 with the failing step on stderr.
 */

typedef struct { char **paths; mode_t *modes; size_t n, cap; } modes_t;
static modes_t saved;

static void modes_push(modes_t *m, const char *p, mode_t mode) {
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 256;
    m->paths = realloc(m->paths, m->cap * sizeof *m->paths);
    m->modes = realloc(m->modes, m->cap * sizeof *m->modes);
    if (!m->paths || !m->modes) { errno = ENOMEM; die("remember a mode", p); }
  }
  m->paths[m->n] = strdup(p);
  if (!m->paths[m->n]) { errno = ENOMEM; die("remember a mode", p); }
  m->modes[m->n++] = mode;
}

/* Who the caller is, in the ids of whoever looks (host ids outside, namespace ids inside). */
static uid_t me_uid;
static gid_t me_groups[NGROUPS_MAX + 1];
static int me_ngroups, me_is_root;

static void who_am_i(int inside) {
  me_uid = inside ? 0 : geteuid();
  me_is_root = !inside && me_uid == 0;
  me_groups[0] = inside ? 0 : getegid();
  int n = getgroups(NGROUPS_MAX, me_groups + 1);
  me_ngroups = 1;
  /* 65534 inside is the overflow id of groups the namespace does not map: not a group we are in. */
  for (int i = 1; i <= n; i++) if (!(inside && me_groups[i] == 65534)) me_groups[me_ngroups++] = me_groups[i];
}

/* The bits the caller lacks to list a dir (r+x) or read a regular file (r), in its own class; 0 if none. */
static mode_t missing_bits(const struct stat *sb) {
  mode_t want = S_ISDIR(sb->st_mode) ? 5 : S_ISREG(sb->st_mode) ? 4 : 0;
  if (!want || me_is_root) return 0;
  int shift = 0;
  if (sb->st_uid == me_uid) shift = 6;
  else for (int i = 0; i < me_ngroups; i++) if (me_groups[i] == sb->st_gid) { shift = 3; break; }
  return (mode_t)((want & ~((sb->st_mode >> shift) & 7)) << shift);
}

static size_t root_len;
static const char *rel_of(const char *path) { return path[root_len] ? path + root_len + 1 : "."; }

/* One xattrs-walk entry the caller cannot use: FTW_DNR/FTW_NS, or a mode that shuts it out. */
static void mark_unreadable(const char *path, const struct stat *sb, int type) {
  if (type == FTW_DNR || type == FTW_NS || (type != FTW_SL && missing_bits(sb))) {
    fputs(rel_of(path), stdout); putchar(0); putchar(0); putchar(0);
  }
}

static int collect_locked(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)ftw;
  if (type == FTW_NS || type == FTW_DNR) { errno = EACCES; die("walk as the namespace's root", path); }
  if (type != FTW_SL && missing_bits(sb)) modes_push(&saved, rel_of(path), sb->st_mode & 07777);
  return 0;
}

static int open_root(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("open", dir);
  return fd;
}

static int cmd_unlock(char *dir) {
  read_config(3, 0);
  if (!userns) { errno = EINVAL; die("read config", "(unlock needs userns 1 and the id maps)"); }
  setup_userns();
  who_am_i(1);
  root_len = strlen(dir);
  if (nftw(dir, collect_locked, 32, FTW_PHYS) < 0) die("walk", dir);
  int root = open_root(dir);
  for (size_t i = 0; i < saved.n; i++) {
    struct stat sb;
    if (fstatat(root, saved.paths[i], &sb, AT_SYMLINK_NOFOLLOW) < 0) die("stat", saved.paths[i]);
    /* Hardlinks share a mode: the second path sees the first one's change, so add, never set. */
    if (fchmodat(root, saved.paths[i], (sb.st_mode & 07777) | missing_bits(&sb), 0) < 0) die("chmod", saved.paths[i]);
    fputs(saved.paths[i], stdout); putchar(0); printf("%o", (unsigned)saved.modes[i]); putchar(0);
  }
  return fflush(stdout) == 0 ? 0 : 125;
}

static int cmd_relock(char *dir) {
  read_config(3, 0);
  if (!userns) { errno = EINVAL; die("read config", "(relock needs userns 1 and the id maps)"); }
  setup_userns();
  int root = open_root(dir);
  for (size_t i = 0; i < saved.n; i++) {
    struct stat sb;
    if (fstatat(root, saved.paths[i], &sb, AT_SYMLINK_NOFOLLOW) < 0) die("stat", saved.paths[i]);
    if (S_ISLNK(sb.st_mode)) { errno = ELOOP; die("restore the mode of", saved.paths[i]); }
    if (fchmodat(root, saved.paths[i], saved.modes[i], 0) < 0) die("restore the mode of", saved.paths[i]);
  }
  return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb; (void)type; (void)ftw;
  if (remove(path) < 0 && errno != ENOENT) die("remove", path);
  return 0;
}

static int cmd_rmtree(char *dir) {
  read_config(3, 0);
  if (!userns) { errno = EINVAL; die("read config", "(rmtree needs userns 1 and the id maps)"); }
  setup_userns();
  if (nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) die("walk", dir);
  return 0;
}
