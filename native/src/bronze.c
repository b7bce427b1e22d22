/*
 * Bronze's native addon: the few Linux system calls machined needs that Node does not offer.
 * Every function throws a JavaScript Error carrying `code` (the errno name) and `syscall` on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>

static const char *errno_name(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EBADF: return "EBADF";
  case EINVAL: return "EINVAL";
  case ENODEV: return "ENODEV";
  case EACCES: return "EACCES";
  case EBUSY: return "EBUSY";
  case ENOTSOCK: return "ENOTSOCK";
  case ENOPROTOOPT: return "ENOPROTOOPT";
  case ENOTDIR: return "ENOTDIR";
  case EEXIST: return "EEXIST";
  default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s", syscall, strerror(e));
  napi_value code, message, err, sys;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, err, "syscall", sys);
  napi_value errnum;
  napi_create_int32(env, e, &errnum);
  napi_set_named_property(env, err, "errno", errnum);
  napi_throw(env, err);
  return NULL;
}

/* bindToDevice(fd: number, ifname: string): sends and receives of the socket use only that link (SO_BINDTODEVICE). */
static napi_value bind_to_device(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 2) {
    napi_throw_type_error(env, "EINVAL", "bindToDevice(fd, ifname) takes two arguments");
    return NULL;
  }
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "fd must be a number");
    return NULL;
  }
  char ifname[IFNAMSIZ];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[1], ifname, sizeof ifname, &len) != napi_ok || len == 0 || len >= IFNAMSIZ - 1) {
    napi_throw_type_error(env, "EINVAL", "ifname must be a non-empty link name shorter than 16 bytes");
    return NULL;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)len + 1) != 0) return throw_errno(env, "setsockopt(SO_BINDTODEVICE)", errno);
  return NULL;
}

/* setParentDeathSignal(signal: number): the kernel sends this signal to the process when the thread that started it
 * ends (PR_SET_PDEATHSIG); 0 clears it. */
static napi_value set_parent_death_signal(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t sig;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &sig) != napi_ok || sig < 0 || sig > 64) {
    napi_throw_type_error(env, "EINVAL", "setParentDeathSignal(signal) takes a signal number (0-64)");
    return NULL;
  }
  if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_PDEATHSIG)", errno);
  return NULL;
}

/* stepClock(offsetMs: number): moves CLOCK_REALTIME by offsetMs milliseconds (clock_settime; needs CAP_SYS_TIME). */
static napi_value step_clock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double offset_ms;
  if (argc != 1 || napi_get_value_double(env, argv[0], &offset_ms) != napi_ok || offset_ms != offset_ms || offset_ms > 1e15 || offset_ms < -1e15) {
    napi_throw_type_error(env, "EINVAL", "stepClock(offsetMs) takes a finite number of milliseconds");
    return NULL;
  }
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME, &now) != 0) return throw_errno(env, "clock_gettime", errno);
  long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec + (long long)(offset_ms * 1e6);
  struct timespec next = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
  if (next.tv_nsec < 0) {
    next.tv_nsec += 1000000000LL;
    next.tv_sec -= 1;
  }
  if (clock_settime(CLOCK_REALTIME, &next) != 0) return throw_errno(env, "clock_settime", errno);
  return NULL;
}

/* slewClock(offsetMs: number): has the kernel move the clock gradually by offsetMs milliseconds (adjtime). */
static napi_value slew_clock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double offset_ms;
  if (argc != 1 || napi_get_value_double(env, argv[0], &offset_ms) != napi_ok || offset_ms != offset_ms || offset_ms > 2e6 || offset_ms < -2e6) {
    napi_throw_type_error(env, "EINVAL", "slewClock(offsetMs) takes a number of milliseconds within ±2000 s");
    return NULL;
  }
  long long us = (long long)(offset_ms * 1000);
  struct timeval delta = {.tv_sec = us / 1000000, .tv_usec = us % 1000000};
  if (adjtime(&delta, NULL) != 0) return throw_errno(env, "adjtime", errno);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_null || t == napi_undefined) {
    buf[0] = 0;
    return 1;
  }
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok || len >= size - 1) return -1;
  return 0;
}

/* mount(source, target, fstype, flags, data): mount(2); null strings are passed as NULL. */
static napi_value do_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char source[4096], target[4096], fstype[256], data[4096];
  int64_t flags = 0;
  int ns, nf, nd;
  if (argc != 5 || (ns = get_string(env, argv[0], source, sizeof source)) < 0 || get_string(env, argv[1], target, sizeof target) != 0 ||
      (nf = get_string(env, argv[2], fstype, sizeof fstype)) < 0 || napi_get_value_int64(env, argv[3], &flags) != napi_ok ||
      (nd = get_string(env, argv[4], data, sizeof data)) < 0) {
    napi_throw_type_error(env, "EINVAL", "mount(source, target, fstype, flags, data) takes strings (or null) and a number");
    return NULL;
  }
  if (mount(ns ? NULL : source, target, nf ? NULL : fstype, (unsigned long)flags, nd ? NULL : data) != 0) return throw_errno(env, "mount", errno);
  return NULL;
}

/* umount(target, flags): umount2(2). */
static napi_value do_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char target[4096];
  int32_t flags = 0;
  if (argc != 2 || get_string(env, argv[0], target, sizeof target) != 0 || napi_get_value_int32(env, argv[1], &flags) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "umount(target, flags) takes a path and a number");
    return NULL;
  }
  if (umount2(target, flags) != 0) return throw_errno(env, "umount2", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bindToDevice", NULL, bind_to_device, NULL, NULL, NULL, napi_default, NULL},
      {"setParentDeathSignal", NULL, set_parent_death_signal, NULL, NULL, NULL, napi_default, NULL},
      {"stepClock", NULL, step_clock, NULL, NULL, NULL, napi_default, NULL},
      {"slewClock", NULL, slew_clock, NULL, NULL, NULL, napi_default, NULL},
      {"mount", NULL, do_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount", NULL, do_umount, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
