import type { ImageConfig } from './images.js';

/** An OCI runtime spec mount. */
export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

/** The OCI runtime spec type URL containerd stores container specs under. */
export const SPEC_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';

const DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

/** Every capability a container can be granted (Linux 5.9+ numbering, as runc knows them). */
export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export interface SpecOptions {
  /** container id (hostname, cgroup path) */
  id: string;
  /** containerd namespace (cgroup path `/<namespace>/<id>`) */
  namespace: string;
  image?: ImageConfig;
  /** the process's argv; default the image's entrypoint + cmd */
  args?: string[];
  /** added to the image's environment (`K=V`) */
  env?: string[];
  cwd?: string;
  mounts?: SpecMount[];
  /** share the host's network / PID namespace */
  hostNetwork?: boolean;
  hostPID?: boolean;
  /** all capabilities and devices, no masked or read-only paths, writable sysfs and cgroupfs */
  privileged?: boolean;
  /** rootfs propagation (`shared`, `slave`, `private`) */
  rootfsPropagation?: string;
  oomScoreAdj?: number;
  /** cgroup path (default `/<namespace>/<id>`) */
  cgroupsPath?: string;
  annotations?: Record<string, string>;
}

/**
 * An OCI runtime spec for a container, along the lines of containerd's default Linux spec: its own namespaces (but
 * the host network and PID namespaces when asked), /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and the cgroup
 * filesystem, the default capabilities (all when privileged), masked and read-only kernel paths, the image's
 * process settings overridden by `args`, `env` and `cwd`.
 */
export function buildSpec(o: SpecOptions): Record<string, unknown> {
  const imageCfg = o.image?.config ?? {};
  const args = o.args ?? [...(imageCfg.Entrypoint ?? []), ...(imageCfg.Cmd ?? [])];
  if (args.length === 0) throw new Error(`container ${o.id}: no command (the image has neither entrypoint nor cmd)`);
  const envMap = new Map<string, string>();
  for (const kv of ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(imageCfg.Env ?? []), ...(o.env ?? [])]) {
    const eq = kv.indexOf('=');
    envMap.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  const caps = o.privileged ? ALL_CAPS : DEFAULT_CAPS;
  const namespaces = [{ type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (!o.hostPID) namespaces.unshift({ type: 'pid' });
  if (!o.hostNetwork) namespaces.push({ type: 'network' });
  const sysOpts = o.privileged ? ['nosuid', 'noexec', 'nodev', 'rw'] : ['nosuid', 'noexec', 'nodev', 'ro'];
  const mounts: SpecMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOpts },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...sysOpts, 'relatime'] },
  ];
  // a mount of the caller's replaces a default one at the same place
  for (const m of o.mounts ?? []) {
    const at = mounts.findIndex((d) => d.destination === m.destination);
    if (at >= 0) mounts.splice(at, 1);
    mounts.push(m);
  }
  const linux: Record<string, unknown> = {
    resources: { devices: o.privileged ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }] },
    cgroupsPath: o.cgroupsPath ?? `/${o.namespace}/${o.id}`,
    namespaces,
  };
  if (!o.privileged) {
    linux.maskedPaths = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];
    linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
  }
  if (o.rootfsPropagation) linux.rootfsPropagation = o.rootfsPropagation;
  const [uid, gid] = (imageCfg.User ?? '').split(':').map((s) => (/^\d+$/.test(s) ? Number(s) : 0));
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: uid ?? 0, gid: gid ?? 0 },
      args,
      env: [...envMap.values()],
      cwd: o.cwd ?? (imageCfg.WorkingDir || '/'),
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: !o.privileged,
      ...(o.oomScoreAdj !== undefined ? { oomScoreAdj: o.oomScoreAdj } : {}),
    },
    root: { path: 'rootfs' },
    hostname: o.hostNetwork ? undefined : o.id,
    mounts,
    linux,
    annotations: o.annotations,
  };
}
