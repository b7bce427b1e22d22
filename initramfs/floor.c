/*
 * The boot floor's /init: the same kernel with nothing but Node in its initramfs. It mounts /dev and /proc, runs Node
 * once to print the guest uptime at which JavaScript runs (`bronze-floor: <seconds>`), and powers the machine off.
 * The boot benchmark reports the time from QEMU's start to that line beside the time Bronze takes to its API.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755");
  mount("proc", "/proc", "proc", 0, NULL);
  int fd = open("/dev/console", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
  }
  pid_t pid = fork();
  if (pid == 0) {
    char *const env[] = {"PATH=/usr/bin", NULL};
    execle("/usr/bin/node", "node", "-e", "process.stdout.write(`bronze-floor: ${require('fs').readFileSync('/proc/uptime', 'utf8').split(' ')[0]}\\n`)", (char *)NULL, env);
    static const char msg[] = "floor: cannot run /usr/bin/node\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(126);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}
