import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistriesConfig } from './registry.js';

/** TOML basic string. */
const q = (s: string) => JSON.stringify(s);

export interface SystemContainerdPaths {
  /** the gRPC socket */
  address: string;
  /** persistent data (content, snapshots, metadata) */
  root: string;
  /** runtime state (task bundles, shim sockets) */
  state: string;
}

/**
 * The system containerd's configuration: its own address, root and state, and no CRI plugin (the system instance
 * runs the node's own containers only; Kubernetes has the CRI instance). Written out so that no configuration of the
 * host (`/etc/containerd/config.toml`) is picked up.
 */
export function systemContainerdConfig(p: SystemContainerdPaths): string {
  return [
    'version = 2',
    `root = ${q(p.root)}`,
    `state = ${q(p.state)}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '',
    '[grpc]',
    `  address = ${q(p.address)}`,
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(join(p.root, 'opt'))}`,
    '',
  ].join('\n');
}

export interface CRIContainerdPaths extends SystemContainerdPaths {
  /** the directory of the CRI parts (Talos: /etc/cri/conf.d): cri.toml and hosts/ */
  confd: string;
  /** CNI configuration and plugins */
  cniConf: string;
  cniBin: string;
}

/**
 * The CRI containerd's main configuration (Talos: /etc/cri/containerd.toml): its address, root and state, and the
 * CRI settings imported from `conf.d/cri.toml`.
 */
export function criContainerdConfig(p: CRIContainerdPaths): string {
  return [
    'version = 2',
    `root = ${q(p.root)}`,
    `state = ${q(p.state)}`,
    `imports = [${q(join(p.confd, 'cri.toml'))}]`,
    '',
    '[grpc]',
    `  address = ${q(p.address)}`,
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(join(p.root, 'opt'))}`,
    '',
  ].join('\n');
}

export interface CRISettings {
  /** the pod sandbox ("pause") image */
  sandboxImage?: string;
  registries?: RegistriesConfig;
  /** keep containers' oom_score_adj no lower than containerd's own (a node without CAP_SYS_RESOURCE) */
  restrictOOMScoreAdj?: boolean;
}

/** The CRI plugin's settings (Talos: /etc/cri/conf.d/cri.toml): runc through the v2 shim, CNI paths, registry hosts. */
export function criPluginConfig(p: CRIContainerdPaths, s: CRISettings = {}): string {
  return [
    'version = 2',
    '',
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = ${q(s.sandboxImage ?? 'registry.k8s.io/pause:3.10')}`,
    '  enable_unprivileged_ports = true',
    '  enable_unprivileged_icmp = true',
    ...(s.restrictOOMScoreAdj ? ['  restrict_oom_score_adj = true'] : []),
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd]',
    '  default_runtime_name = "runc"',
    '  discard_unpacked_layers = true',
    '',
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    '[plugins."io.containerd.grpc.v1.cri".cni]',
    `  conf_dir = ${q(p.cniConf)}`,
    `  bin_dir = ${q(p.cniBin)}`,
    '',
    '[plugins."io.containerd.grpc.v1.cri".registry]',
    `  config_path = ${q(join(p.confd, 'hosts'))}`,
    '',
  ].join('\n');
}

/**
 * The registry hosts files of the CRI plugin (`hosts/<registry>/hosts.toml`, containerd's hosts format): each mirror
 * endpoint as a pull/resolve host, and the registry itself as the server unless the mirror skips the fallback.
 * `*` becomes `_default`, as containerd names it.
 */
export function registryHostsFiles(r: RegistriesConfig = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [registry, mirror] of Object.entries(r.mirrors ?? {})) {
    const dir = registry === '*' ? '_default' : registry;
    const lines: string[] = [];
    if (!mirror.skipFallback && registry !== '*') lines.push(`server = ${q(registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`)}`, '');
    for (const ep of mirror.endpoints ?? []) {
      lines.push(`[host.${q(ep)}]`, '  capabilities = ["pull", "resolve"]');
      if (mirror.overridePath) lines.push('  override_path = true');
      lines.push('');
    }
    out[join(dir, 'hosts.toml')] = lines.join('\n');
  }
  return out;
}

/** Writes the CRI configuration (main file, cri.toml, registry hosts) and returns the main file's path. */
export async function writeCRIConfig(mainFile: string, p: CRIContainerdPaths, s: CRISettings = {}): Promise<string> {
  await mkdir(p.confd, { recursive: true });
  const hosts = join(p.confd, 'hosts');
  await rm(hosts, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(registryHostsFiles(s.registries))) {
    await mkdir(join(hosts, rel, '..'), { recursive: true });
    await writeFile(join(hosts, rel), text, { mode: 0o644 });
  }
  await writeFile(join(p.confd, 'cri.toml'), criPluginConfig(p, s), { mode: 0o644 });
  await mkdir(join(mainFile, '..'), { recursive: true });
  await writeFile(mainFile, criContainerdConfig(p), { mode: 0o644 });
  return mainFile;
}
