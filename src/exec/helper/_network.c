/*
 * _network.c (included by kb-sandbox.c): the RUN network "sandbox" — a new network namespace whose outbound
 * traffic goes through pasta (Debian/Ubuntu "passt"), started in the host's namespaces (decision 101).
 */

/* Forks (before any namespace) the process that will exec pasta in the host's namespaces. It waits
 * for the new network (and user) namespace as file descriptors on a socket: pasta opens them as
 * /proc/self/fd/N, which needs no ptrace access to pid 1 (root mode's pid 1 has more caps than pasta). */
static pid_t fork_pasta(int *sock) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair", NULL);
  pid_t pid = fork();
  if (pid < 0) die("fork", pasta);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(sv[0]);
    char c, ctl[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = {.iov_base = &c, .iov_len = 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    if (recvmsg(sv[1], &mh, 0) != 1) _exit(1);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (!cm || cm->cmsg_type != SCM_RIGHTS) _exit(1);
    int fds[2] = {-1, -1}, nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    memcpy(fds, CMSG_DATA(cm), (size_t)nfd * sizeof(int));
    char netns[64], userns_path[64];
    snprintf(netns, sizeof netns, "/proc/self/fd/%d", fds[0]);
    if (nfd > 1) snprintf(userns_path, sizeof userns_path, "/proc/self/fd/%d", fds[1]);
    /* No port forwarding either way and no gateway mapped to the host: the host's loopback stays out of reach. */
    char *av[32]; int n = 0;
    /* --foreground: pasta stays this process, a child of the helper, so PR_SET_PDEATHSIG (kept across exec)
     * kills it with the helper; a daemonized pasta outlives a SIGKILLed build (it does not notice the namespace go). */
    av[n++] = pasta; av[n++] = "--foreground"; av[n++] = "--quiet"; av[n++] = "--config-net"; av[n++] = "--no-map-gw";
    av[n++] = "-t"; av[n++] = "none"; av[n++] = "-u"; av[n++] = "none"; av[n++] = "-T"; av[n++] = "none"; av[n++] = "-U"; av[n++] = "none";
    av[n++] = "--pid"; av[n++] = pasta_pidfile;
    if (getuid() == 0) { av[n++] = "--runas"; av[n++] = "0:0"; } /* as nobody it could not join namespaces root owns */
    if (dns_forward) { av[n++] = "--dns-forward"; av[n++] = dns_forward; }
    if (nfd > 1) { av[n++] = "--userns"; av[n++] = userns_path; }
    av[n++] = "--netns"; av[n++] = netns;
    av[n] = NULL;
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); }
    execv(pasta, av);
    dprintf(2, "kb-sandbox: exec %s: %s\n", pasta, strerror(errno));
    _exit(127);
  }
  close(sv[1]);
  *sock = sv[0];
  return pid;
}

/* Sends the new namespaces to the launcher, waits until pasta has configured them (it writes its pid file
 * then), and returns pasta's pid (the launcher's) so it is stopped when pid 1 exits. */
static pid_t start_pasta(pid_t launcher, int sock) {
  int fds[2] = {open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), userns ? open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC) : -1};
  int nfd = userns ? 2 : 1;
  if (fds[0] < 0 || (userns && fds[1] < 0)) die("open", "/proc/self/ns");
  char c = 'n', ctl[CMSG_SPACE(2 * sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct iovec iov = {.iov_base = &c, .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = CMSG_SPACE((size_t)nfd * sizeof(int))};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN((size_t)nfd * sizeof(int));
  memcpy(CMSG_DATA(cm), fds, (size_t)nfd * sizeof(int));
  if (sendmsg(sock, &mh, 0) != 1) die("send namespaces to", pasta);
  close(sock); close(fds[0]); if (fds[1] >= 0) close(fds[1]);
  for (;;) {
    char buf[32] = {0};
    int fd = open(pasta_pidfile, O_RDONLY | O_CLOEXEC);
    ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    if (r > 0 && buf[r - 1] == '\n') return launcher;
    int st;
    pid_t w = waitpid(launcher, &st, WNOHANG);
    if (w == launcher) { errno = ENETUNREACH; die("start the network helper", pasta); }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
}

/* netns-hold: makes one network namespace with pasta for the RUNs of a build (root mode), prints "ready",
 * and keeps it until stdin closes. Config on fd 3: pasta, pastapid. */
static int cmd_netns_hold(void) {
  read_config(3, 0);
  if (!pasta || !pasta_pidfile) { errno = EINVAL; die("netns-hold", "(pasta and pastapid are required)"); }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int sock = -1;
  pid_t launcher = fork_pasta(&sock);
  if (unshare(CLONE_NEWNET) < 0) die("unshare", "CLONE_NEWNET");
  loopback_up();
  pid_t pp = start_pasta(launcher, sock);
  if (write(1, "ready\n", 6) != 6) die("write", "ready");
  char c;
  while (read(0, &c, 1) > 0) {}
  if (pp > 0) { kill(pp, SIGTERM); while (waitpid(pp, NULL, 0) < 0 && errno == EINTR) {} }
  return 0;
}

