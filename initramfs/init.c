/*
 * Bronze's PID 1.
 *
 * In the initramfs it mounts the early filesystems, loads the kernel modules the root filesystem needs, attaches the
 * squashfs root image to a loop device, mounts it read-only with writable tmpfs where the node writes, and switches
 * root into it. The other modules (disks, filesystems, network cards) are loaded meanwhile by a child of PID 1, which
 * creates /run/bronze-modules-loaded when it is done: machined waits for that file before it looks for its disks,
 * and starts Node while the kernel takes the modules in. Then it starts machined, reaps every process that dies, and
 * turns machined's exit status into what the node does next:
 *
 *   exit 0   power off          exit 10  reboot
 *   exit 11  restart machined   exit 12  halt
 *   anything else (a crash): reboot after `panic=` seconds (10 by default; panic=0 waits forever)
 *
 * SIGTERM and SIGINT (Ctrl-Alt-Del) are passed on to machined, which runs its shutdown or reboot sequence. Before
 * the machine goes down every process is ended and the filesystems on disks (machined's STATE volume) are unmounted.
 *
 * For tests it runs in a PID namespace: BRONZE_INIT_SKIP_MOUNTS=1 skips the initramfs stage, BRONZE_INIT_MACHINED
 * names the program (an executable path) to supervise, and BRONZE_INIT_DRY_RUN=1 prints the final action instead of doing it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT "/newroot"
#define SQUASHFS "/rootfs.sqsh"
#define MODULES_ROOT_LIST "/etc/bronze-modules-root"
#define MODULES_LIST "/etc/bronze-modules"
#define MODULES_LOADED "bronze-modules-loaded" /* in /run */
#define MAX_MODULES 512
#define MACHINED_NODE "/usr/bin/node"
#define MACHINED_BUNDLE "/usr/lib/bronze/dist/bronze.js"
/* the code bronze.js loads, and beside it the V8 code cache of each role */
#define MACHINED_BUNDLE_CODE "/usr/lib/bronze/dist/bronze.cjs"

/* machined's environment on the node (the kernel gives PID 1 only HOME and TERM) */
static char *const machined_env[] = {"PATH=/usr/bin:/usr/sbin", "HOME=/", "TERM=linux", "NODE_ENV=production", NULL};

enum { EXIT_POWEROFF = 0, EXIT_REBOOT = 10, EXIT_RESTART = 11, EXIT_HALT = 12 };

static volatile sig_atomic_t pending_signal;
static pid_t machined_pid;
static int dry_run;

static void logf_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  /* seconds since boot, as the kernel's own lines show them */
  struct timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now);
  fprintf(stderr, "[bronze-init] [%5ld.%02ld] ", (long)now.tv_sec, now.tv_nsec / 10000000);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void on_signal(int sig) { pending_signal = sig; }

static int mkdir_p(const char *path, mode_t mode) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p == '/') {
      *p = 0;
      if (mkdir(buf, mode) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  }
  return (mkdir(buf, mode) != 0 && errno != EEXIST) ? -1 : 0;
}

static int mount_at(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data) {
  if (mkdir_p(target, 0755) != 0) {
    logf_("mkdir %s: %s", target, strerror(errno));
    return -1;
  }
  if (mount(src, target, fstype, flags, data) != 0 && errno != EBUSY) {
    logf_("mount %s on %s (%s): %s", src, target, fstype, strerror(errno));
    return -1;
  }
  return 0;
}

/* Without /dev/console in the initramfs the kernel starts PID 1 with no standard streams: give it the console. */
static void console_fds(void) {
  if (fcntl(2, F_GETFD) >= 0) return;
  int fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0) return;
  for (int i = 0; i < 3; i++)
    if (fd != i) dup2(fd, i);
  if (fd > 2) close(fd);
}

/* A module file opened for loading, and its path for messages. */
struct module {
  int fd;
  char path[512];
};

/* Opens the modules listed (one absolute path per line, `#` starts a comment), in order; returns how many. */
static size_t open_modules(const char *list, struct module *mods, size_t max) {
  FILE *f = fopen(list, "r");
  if (!f) return 0;
  char line[512];
  size_t n = 0;
  while (n < max && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0] == 0 || line[0] == '#') continue;
    int fd = open(line, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      logf_("module %s: %s", line, strerror(errno));
      continue;
    }
    mods[n].fd = fd;
    snprintf(mods[n].path, sizeof mods[n].path, "%s", line);
    n++;
  }
  if (n == max && fgets(line, sizeof line, f)) logf_("%s lists more than %zu modules: the rest are not loaded", list, max);
  fclose(f);
  return n;
}

/* Loads opened modules in order, closing each. */
static void load_modules(struct module *mods, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (syscall(SYS_finit_module, mods[i].fd, "", 0) != 0 && errno != EEXIST) logf_("loading %s: %s", mods[i].path, strerror(errno));
    close(mods[i].fd);
  }
}

static struct module modules[MAX_MODULES];

/*
 * Loads the modules of MODULES_LIST in a child while PID 1 goes on, then creates MODULES_LOADED in the /run given as
 * a directory descriptor (PID 1 moves that tmpfs into the new root meanwhile). The files are opened before the fork,
 * so the switch of root does not matter to the child. Without a child (fork failed) they are loaded here.
 */
static void load_modules_aside(int run_dir) {
  size_t n = open_modules(MODULES_LIST, modules, MAX_MODULES);
  pid_t pid = fork();
  if (pid > 0) {
    for (size_t i = 0; i < n; i++) close(modules[i].fd);
    return;
  }
  if (pid < 0) logf_("fork: %s: loading the modules first", strerror(errno));
  /* at the lowest priority: machined's Node starts meanwhile and needs the CPUs more (under emulation this took 1 s
   * off the time before Node's main(), 4.9-5.2 s to 3.9-4.0 s); the modules are still all in before machined looks
   * for its disks */
  if (pid == 0) setpriority(PRIO_PROCESS, 0, 19);
  load_modules(modules, n);
  int fd = openat(run_dir, MODULES_LOADED, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) logf_("creating /run/%s: %s", MODULES_LOADED, strerror(errno));
  else close(fd);
  if (pid == 0) _exit(0);
}

/*
 * What machined's Node reads from the squashfs as it starts, read by a child of PID 1 while machined starts on the
 * other CPU: the bundle and machined's code cache (small, read whole by Node once it runs), then the Node binary.
 * Each file is read from its end backwards, to meet Node's own page faults, which go forwards from the start (the
 * dynamic symbols and the code). Every block so read is decompressed once, by one CPU or the other, instead of all of
 * them one after another in Node's faults; xz blocks under emulation made that several seconds of machined's start.
 */
static const char *const warm_files[] = {MACHINED_BUNDLE_CODE, MACHINED_BUNDLE_CODE ".machined.cache", MACHINED_NODE};

static void warm_aside(void) {
  pid_t pid = fork();
  if (pid < 0) logf_("fork: %s: machined's files are read by machined alone", strerror(errno));
  if (pid != 0) return;
  static char buf[1 << 20];
  for (size_t i = 0; i < sizeof warm_files / sizeof warm_files[0]; i++) {
    int fd = open(warm_files[i], O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) continue;
    if (fstat(fd, &st) == 0) {
      for (off_t off = (st.st_size - 1) & ~((off_t)sizeof buf - 1); off >= 0; off -= (off_t)sizeof buf) {
        if (pread(fd, buf, sizeof buf, off) < 0) break;
      }
    }
    close(fd);
  }
  _exit(0);
}

/* Attaches a file to a free loop device read-only; returns the device path in dev. */
static int loop_attach(const char *file, char *dev, size_t devlen) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) return -1;
  int n = ioctl(ctl, LOOP_CTL_GET_FREE);
  close(ctl);
  if (n < 0) return -1;
  snprintf(dev, devlen, "/dev/loop%d", n);
  int lfd = open(dev, O_RDWR | O_CLOEXEC);
  int ffd = open(file, O_RDONLY | O_CLOEXEC);
  if (lfd < 0 || ffd < 0) return -1;
  if (ioctl(lfd, LOOP_SET_FD, ffd) != 0) return -1;
  struct loop_info64 info;
  memset(&info, 0, sizeof info);
  info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
  snprintf((char *)info.lo_file_name, LO_NAME_SIZE, "%s", file);
  if (ioctl(lfd, LOOP_SET_STATUS64, &info) != 0) return -1;
  close(ffd);
  /* the loop device stays attached while the mount holds it */
  return 0;
}

/* The initramfs stage: early mounts, modules, the squashfs root, writable places, switch root. */
static int initramfs_stage(void) {
  if (mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") != 0) return -1;
  console_fds();
  if (mount_at("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) return -1;
  if (mount_at("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) return -1;
  if (mount_at("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) return -1;
  load_modules(modules, open_modules(MODULES_ROOT_LIST, modules, MAX_MODULES));
  int run_dir = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (run_dir < 0) return -1;
  load_modules_aside(run_dir);
  close(run_dir);
  char dev[64];
  if (loop_attach(SQUASHFS, dev, sizeof dev) != 0) {
    logf_("attaching %s to a loop device: %s", SQUASHFS, strerror(errno));
    return -1;
  }
  if (mount_at(dev, NEWROOT, "squashfs", MS_RDONLY, NULL) != 0) return -1;
  /* the writable places of the node: /system (runtime state), /var, /tmp */
  if (mount_at("tmpfs", NEWROOT "/system", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) return -1;
  if (mount_at("tmpfs", NEWROOT "/var", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) return -1;
  if (mount_at("tmpfs", NEWROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) return -1;
  const char *moves[] = {"/dev", "/proc", "/sys", "/run"};
  for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
    char target[128];
    snprintf(target, sizeof target, NEWROOT "%s", moves[i]);
    if (mount(moves[i], target, NULL, MS_MOVE, NULL) != 0) {
      logf_("moving %s into the new root: %s", moves[i], strerror(errno));
      return -1;
    }
  }
  if (chdir(NEWROOT) != 0 || mount(NEWROOT, "/", NULL, MS_MOVE, NULL) != 0 || chroot(".") != 0 || chdir("/") != 0) {
    logf_("switching root: %s", strerror(errno));
    return -1;
  }
  logf_("root filesystem mounted from %s", SQUASHFS);
  /* the unified cgroup hierarchy, as services and containers expect it; without it they run uncontained */
  if (mount_at("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME, "nsdelegate,memory_recursiveprot") != 0)
    logf_("running without cgroups");
  return 0;
}

static pid_t start_machined(void) {
  const char *cmd = getenv("BRONZE_INIT_MACHINED");
  pid_t pid = fork();
  if (pid < 0) {
    logf_("fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    if (cmd) execl(cmd, cmd, (char *)NULL);
    else execle(MACHINED_NODE, "node", MACHINED_BUNDLE, "machined", "--platform", "metal", (char *)NULL, machined_env);
    logf_("starting machined: %s", strerror(errno));
    _exit(127);
  }
  logf_("started machined (pid %d)", pid);
  return pid;
}

/* The `panic=` seconds from the kernel command line (10 when absent). */
static int panic_seconds(void) {
  FILE *f = fopen("/proc/cmdline", "r");
  if (!f) return 10;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  for (char *p = strstr(buf, "panic="); p; p = strstr(p + 1, "panic=")) {
    if (p == buf || p[-1] == ' ') return atoi(p + 6);
  }
  return 10;
}

/* Ends every process but this one: SIGTERM, a grace period, SIGKILL; reaps them all. */
static void kill_all(void) {
  kill(-1, SIGTERM);
  for (int i = 0; i < 40; i++) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (kill(-1, 0) != 0 && errno == ESRCH) return;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(-1, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0) {
  }
}

/* /proc/mounts writes space, tab, newline and backslash as \ooo: decodes in place. */
static void unescape_octal(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
}

/*
 * Unmounts the filesystems on disks (a source under /dev/ other than the loop device of the root image), the last
 * mounted first, once every process is gone, so a STATE volume is clean before the machine goes down; one still busy
 * is remounted read-only.
 */
static void unmount_disks(void) {
  FILE *f = fopen("/proc/self/mounts", "r");
  if (!f) return;
  char targets[32][256];
  int n = 0;
  char line[1024];
  while (fgets(line, sizeof line, f) && n < 32) {
    char src[256], target[256];
    if (sscanf(line, "%255s %255s", src, target) != 2) continue;
    if (strncmp(src, "/dev/", 5) != 0 || strncmp(src, "/dev/loop", 9) == 0) continue;
    unescape_octal(target);
    snprintf(targets[n++], sizeof targets[0], "%s", target);
  }
  fclose(f);
  while (n-- > 0) {
    if (umount2(targets[n], 0) == 0) {
      logf_("unmounted %s", targets[n]);
    } else if (mount(NULL, targets[n], NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0) {
      logf_("unmounting %s: %s; remounted read-only", targets[n], strerror(errno));
    } else {
      logf_("unmounting %s: %s", targets[n], strerror(errno));
    }
  }
}

static void finish(int cmd, const char *what) {
  logf_("%s", what);
  kill_all();
  sync();
  if (!dry_run) unmount_disks();
  if (dry_run) {
    printf("bronze-init: %s\n", what);
    fflush(stdout);
    exit(0);
  }
  reboot(cmd);
  logf_("reboot(2): %s", strerror(errno));
  for (;;) pause();
}

int main(void) {
  dry_run = getenv("BRONZE_INIT_DRY_RUN") != NULL;
  if (getpid() != 1) {
    logf_("must run as PID 1");
    return 1;
  }
  if (!getenv("BRONZE_INIT_SKIP_MOUNTS") && initramfs_stage() != 0) {
    logf_("the root filesystem could not be set up");
    finish(RB_AUTOBOOT, "rebooting after a failed start");
  }
  /* Ctrl-Alt-Del sends SIGINT to PID 1 instead of rebooting at once */
  if (!dry_run) reboot(RB_DISABLE_CAD);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);

  /* machined's files, read beside it from the squashfs (which a run with the mounts skipped has not mounted) */
  if (!getenv("BRONZE_INIT_SKIP_MOUNTS")) warm_aside();
  machined_pid = start_machined();
  for (;;) {
    if (pending_signal == SIGTERM || pending_signal == SIGINT) {
      int sig = pending_signal;
      pending_signal = 0;
      if (machined_pid > 0) kill(machined_pid, sig);
    }
    int st;
    pid_t pid = waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) {
        /* nothing to wait for: machined is gone and could not be restarted */
        machined_pid = start_machined();
        if (machined_pid < 0) finish(RB_AUTOBOOT, "rebooting: machined cannot start");
        continue;
      }
      continue;
    }
    if (pid != machined_pid) continue; /* an orphan, reaped */
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    machined_pid = 0;
    switch (code) {
    case EXIT_POWEROFF:
      finish(RB_POWER_OFF, "powering off");
      break;
    case EXIT_REBOOT:
      finish(RB_AUTOBOOT, "rebooting");
      break;
    case EXIT_HALT:
      finish(RB_HALT_SYSTEM, "halting");
      break;
    case EXIT_RESTART:
      logf_("restarting machined");
      machined_pid = start_machined();
      break;
    default: {
      int wait_s = panic_seconds();
      logf_("machined failed (status %d)", code);
      if (wait_s <= 0 && !dry_run) {
        logf_("panic=0: not rebooting");
        for (;;) pause();
      }
      if (!dry_run) sleep((unsigned)wait_s);
      finish(RB_AUTOBOOT, "rebooting after a failure");
    }
    }
  }
}
