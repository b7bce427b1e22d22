/**
 * Semantic checks of the v1alpha1 document, as Talos's v1alpha1 Config.Validate runs them: each problem with the
 * path it is about.
 */
import { allRoles } from '../api/roles.js';
import type { ClusterSection, MachineSection, V1Alpha1Config } from './document.js';
import { isCIDR, isIP, isIPOrCIDR, isSubnetOrAddress, isValidDNSName, parseGoURL, splitHostPort, validateEndpointURI } from './net.js';

/** How a node runs: whether it must install to disk, whether it is a container. */
export interface RuntimeMode {
  name: string;
  requiresInstall: boolean;
  inContainer: boolean;
}

/** Collects errors and warnings of one document. */
export class Findings {
  readonly errors: { path: string; message: string }[] = [];
  readonly warnings: { path: string; message: string }[] = [];

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }
}

const canonicalTypes: Record<string, string> = { init: 'init', controlplane: 'controlplane', worker: 'worker', join: 'worker', '': 'worker' };

/** The machine type Talos derives from `machine.type` (`join` and empty mean worker); undefined when unknown. */
export function machineTypeOf(t: string | undefined): 'init' | 'controlplane' | 'worker' | undefined {
  return canonicalTypes[t ?? ''] as 'init' | 'controlplane' | 'worker' | undefined;
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Kubernetes qualified name (label, annotation or taint key); returns the problem, if any. */
export function qualifiedNameProblem(value: string): string | undefined {
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) return `prefix cannot be empty: ${JSON.stringify(value)}`;
    if (prefix.length > 253) return `prefix ${JSON.stringify(prefix)} is invalid: domain name length exceeds limit of 253: ${JSON.stringify(prefix)}`;
    if (!dns1123Subdomain.test(prefix)) return `prefix ${JSON.stringify(prefix)} is invalid: domain doesn't match required format: ${JSON.stringify(prefix)}`;
  } else return `invalid format: too many slashes: ${JSON.stringify(value)}`;
  if (name.length === 0) return `name cannot be empty: ${JSON.stringify(value)}`;
  if (name.length > 63) return `name is too long: ${JSON.stringify(value)} (limit is 63)`;
  if (!qualifiedName.test(name)) return `name ${JSON.stringify(name)} is invalid`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `label value length exceeds limit of 63: ${JSON.stringify(value)}`;
  if (!labelValue.test(value)) return `label value ${JSON.stringify(value)} is invalid`;
  return undefined;
}

const reservedAnnotations = new Set(['talos.dev/owned-labels', 'talos.dev/owned-annotations', 'talos.dev/owned-taints']);
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Node labels, annotations and taints as Talos validates them. */
export function checkNodeMetadata(f: Findings, base: string, labels?: Record<string, string>, annotations?: Record<string, string>, taints?: Record<string, string>): void {
  for (const k of Object.keys(labels ?? {}).sort()) {
    const p = `${base}.nodeLabels[${JSON.stringify(k)}]`;
    const e = qualifiedNameProblem(k) ?? labelValueProblem(labels![k]!);
    if (e) f.error(p, `invalid machine node labels: ${e}`);
  }
  let size = 0;
  for (const k of Object.keys(annotations ?? {}).sort()) {
    const p = `${base}.nodeAnnotations[${JSON.stringify(k)}]`;
    const e = qualifiedNameProblem(k);
    if (e) f.error(p, `invalid machine node annotations: ${e}`);
    if (reservedAnnotations.has(k)) f.error(p, `invalid machine node annotations: annotation ${JSON.stringify(k)} is reserved`);
    size += k.length + annotations![k]!.length;
  }
  if (size > 256 * 1024) f.error(`${base}.nodeAnnotations`, 'invalid machine node annotations: total annotation size exceeds limit of 262144 bytes');
  for (const k of Object.keys(taints ?? {}).sort()) {
    const p = `${base}.nodeTaints[${JSON.stringify(k)}]`;
    const e = qualifiedNameProblem(k);
    if (e) {
      f.error(p, `invalid machine node taints: ${e}`);
      continue;
    }
    const v = taints![k]!;
    const cut = v.indexOf(':');
    const effect = cut < 0 ? v : v.slice(cut + 1);
    if (!taintEffects.includes(effect)) {
      f.error(p, `invalid machine node taints: invalid taint effect: ${JSON.stringify(effect)}`);
      continue;
    }
    if (cut >= 0) {
      const ve = labelValueProblem(v.slice(0, cut));
      if (ve) f.error(p, `invalid machine node taints: ${ve}`);
    }
  }
}

const bondModes = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'];
const bondEnums: [string, string, readonly string[]][] = [
  ['xmitHashPolicy', 'xmit hash policy', ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4']],
  ['lacpRate', 'LACP rate', ['slow', 'fast']],
  ['arpValidate', 'ARP validate', ['none', 'active', 'backup', 'all', 'filter', 'filter-active', 'filter-backup']],
  ['arpAllTargets', 'ARP all targets', ['any', 'all']],
  ['primaryReselect', 'primary reselect', ['always', 'better', 'failure']],
  ['failOverMac', 'failover MAC', ['none', 'active', 'follow']],
  ['adSelect', 'AD select', ['stable', 'bandwidth', 'count']],
];

type Device = NonNullable<NonNullable<MachineSection['network']>['interfaces']>[number];
type Bond = NonNullable<Device['bond']>;

function checkBond(f: Findings, p: string, b: Bond): void {
  const mode = b.mode ?? '';
  if (!bondModes.includes(mode)) f.error(`${p}.mode`, `invalid bond mode ${JSON.stringify(mode)}`);
  for (const [key, what, allowed] of bondEnums) {
    const v = (b as Record<string, unknown>)[key] as string | undefined;
    if (v && !allowed.includes(v)) f.error(`${p}.${key}`, `invalid ${what} ${JSON.stringify(v)}`);
  }
  const miimon = b.miimon ?? 0;
  const up = b.updelay ?? 0;
  const down = b.downdelay ?? 0;
  if (miimon === 0) {
    if (up !== 0) f.error(`${p}.updelay`, "bond.upDelay can't be set if miiMon is zero");
    if (down !== 0) f.error(`${p}.downdelay`, "bond.downDelay can't be set if miiMon is zero");
  } else {
    if (up % miimon !== 0) f.error(`${p}.updelay`, 'bond.upDelay should be a multiple of miiMon');
    if (down % miimon !== 0) f.error(`${p}.downdelay`, 'bond.downDelay should be a multiple of miiMon');
  }
  if (b.arpIPTarget?.length) f.error(`${p}.arpIPTarget`, 'bond.arpIPTarget is not supported');
  if (b.lacpRate && mode !== '802.3ad') f.error(`${p}.lacpRate`, 'bond.lacpRate is only available in 802.3ad mode');
  if (b.adActorSystem) f.error(`${p}.adActorSystem`, 'bond.adActorSystem is not supported');
  const lb = ['802.3ad', 'balance-alb', 'balance-tlb'].includes(mode);
  if (lb && b.arpValidate) f.error(`${p}.arpValidate`, `bond.arpValidate is not available in ${mode} mode`);
  if (!['active-backup', 'balance-alb', 'balance-tlb'].includes(mode) && b.primary) f.error(`${p}.primary`, `bond.primary is not available in ${mode} mode`);
  if (lb && (b.arpInterval ?? 0) > 0) f.error(`${p}.arpInterval`, `bond.arpInterval is not available in ${mode} mode`);
  if (mode !== 'balance-rr' && (b.packetsPerSlave ?? 0) > 1) f.error(`${p}.packetsPerSlave`, `bond.packetsPerSlave is not available in ${mode} mode`);
  if (!['balance-alb', 'balance-tlb'].includes(mode) && (b.tlbDynamicLb ?? 0) > 0) f.error(`${p}.tlbDynamicLb`, `bond.tlbDynamicTLB is not available in ${mode} mode`);
  if (mode !== '802.3ad' && (b.adActorSysPrio ?? 0) > 0) f.error(`${p}.adActorSysPrio`, 'bond.adActorSysPrio is only available in 802.3ad mode');
  if (mode !== '802.3ad' && (b.adUserPortKey ?? 0) > 0) f.error(`${p}.adUserPortKey`, 'bond.adUserPortKey is only available in 802.3ad mode');
}

/** A base64 WireGuard key of 32 bytes; returns the problem. */
export function wireguardKeyProblem(key: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(key) || key.length % 4 !== 0) return `illegal base64 data in key ${JSON.stringify(key)}`;
  const raw = Buffer.from(key, 'base64');
  if (raw.length !== 32) return `wrong key ${JSON.stringify(key)} length: ${raw.length}`;
  return undefined;
}

function checkDevice(f: Findings, p: string, d: Device, secondary: Map<string, string>): void {
  if (d.ignore) return;
  const name = d.interface ?? '';
  // interface
  if (!d.interface && !d.deviceSelector) f.error(p, '[networking.os.device.interface], [networking.os.device.deviceSelector]: required either config section to be set');
  else if (d.interface && d.deviceSelector) f.error(p, '[networking.os.device.interface], [networking.os.device.deviceSelector]: config sections are mutually exclusive');
  if (d.deviceSelector && Object.keys(d.deviceSelector).length === 0) f.error(`${p}.deviceSelector`, '[networking.os.device.deviceSelector]: config section should contain at least one field');
  if (d.bond) checkBond(f, `${p}.bond`, d.bond);
  if (d.wireguard) {
    const w = d.wireguard;
    const e = wireguardKeyProblem(w.privateKey ?? '');
    if (e) f.error(`${p}.wireguard.privateKey`, `private key is invalid: ${e}`);
    (w.peers ?? []).forEach((peer, i) => {
      const pp = `${p}.wireguard.peers[${i}]`;
      const pe = wireguardKeyProblem(peer.publicKey ?? '');
      if (pe) f.error(`${pp}.publicKey`, `public key invalid: ${pe}`);
      if (peer.endpoint && typeof splitHostPort(peer.endpoint) === 'string') f.error(`${pp}.endpoint`, `peer endpoint ${JSON.stringify(peer.endpoint)} is invalid`);
      for (const ip of peer.allowedIPs ?? []) if (!isCIDR(ip)) f.error(`${pp}.allowedIPs`, `peer allowed IP ${JSON.stringify(ip)} is invalid: invalid CIDR address: ${ip}`);
    });
  }
  (d.vlans ?? []).forEach((v, i) => {
    const vp = `${p}.vlans[${i}]`;
    if (v.addresses?.length && v.cidr) f.error(vp, `[networking.os.device.vlan] ${name}.${v.vlanId ?? 0}: vlan can't have both .cidr and .addresses set`);
    if (v.cidr && !isIPOrCIDR(v.cidr)) f.error(`${vp}.cidr`, `[networking.os.device.vlan.CIDR] ${name}.${v.vlanId ?? 0}: invalid address ${JSON.stringify(v.cidr)}`);
    for (const a of v.addresses ?? []) if (!isIPOrCIDR(a)) f.error(`${vp}.addresses`, `[networking.os.device.vlan.addresses] ${name}.${v.vlanId ?? 0}: invalid address ${JSON.stringify(a)}`);
  });
  // addressing
  if (secondary.has(name) && (d.dhcp || d.cidr || d.addresses?.length || d.vip)) {
    f.error(p, `[networking.os.device] ${JSON.stringify(name)}: bonded/bridged interface shouldn't have any addressing methods configured`);
  }
  if (d.addresses?.length && d.cidr) f.error(p, `[networking.os.device] ${JSON.stringify(name)}: interface can't have both .cidr and .addresses set`);
  if (d.cidr) {
    if (!isIPOrCIDR(d.cidr)) f.error(`${p}.cidr`, `[networking.os.device.CIDR] ${JSON.stringify(name)}: invalid address ${JSON.stringify(d.cidr)}`);
    f.warn(`${p}.cidr`, `${JSON.stringify(name)}: machine.network.interface.cidr is deprecated, please use machine.network.interface.addresses`);
  }
  (d.addresses ?? []).forEach((a, i) => {
    if (!isIPOrCIDR(a)) f.error(`${p}.addresses[${i}]`, `[networking.os.device.addresses] ${JSON.stringify(name)}: invalid address ${JSON.stringify(a)}`);
  });
  if (d.vip && !isIP(d.vip.ip ?? '')) f.error(`${p}.vip.ip`, `[networking.os.device.vip] failed to parse ${JSON.stringify(d.vip.ip ?? '')} as IP address`);
  // routes
  (d.routes ?? []).forEach((r, i) => {
    const rp = `${p}.routes[${i}]`;
    if (r.network && !isCIDR(r.network)) f.error(`${rp}.network`, `[networking.os.device.route[${i}].network] ${JSON.stringify(r.network)}: invalid network address`);
    if (r.gateway && !isIP(r.gateway)) f.error(`${rp}.gateway`, `[networking.os.device.route[${i}].gateway] ${JSON.stringify(r.gateway)}: invalid network address`);
    if (!r.gateway && !r.network) f.error(rp, `[networking.os.device.route[${i}]]: either network or gateway should be set`);
    if (r.source && !isIP(r.source)) f.error(`${rp}.source`, `[networking.os.device.route[${i}].source] ${JSON.stringify(r.source)}: invalid network address`);
  });
}

const protectedKubeletFields = ['apiVersion', 'authentication', 'authorization', 'cgroupRoot', 'kind', 'kubeletCgroups', 'port', 'protectKernelDefaults', 'resolvConf', 'rotateCertificates', 'systemCgroups', 'staticPodPath'];

function checkCluster(f: Findings, c: ClusterSection | undefined, isControlPlane: boolean): void {
  if (!c) {
    f.error('.cluster', 'cluster instructions are required');
    return;
  }
  const endpoint = c.controlPlane?.endpoint;
  if (!endpoint) {
    f.error('.cluster.controlPlane.endpoint', 'cluster controlplane endpoint is required');
    return;
  }
  const epErr = validateEndpointURI(endpoint);
  if (epErr) f.error('.cluster.controlPlane.endpoint', `invalid controlplane endpoint: ${epErr}`);
  const dns = c.network?.dnsDomain;
  if (dns && !isValidDNSName(dns)) f.error('.cluster.network.dnsDomain', `${JSON.stringify(dns)} is not a valid DNS name`);
  const ecp = c.externalCloudProvider;
  if (ecp) {
    if (!ecp.enabled && ecp.manifests?.length) f.error('.cluster.externalCloudProvider', 'external cloud provider is disabled, but manifests are provided');
    else for (const u of ecp.manifests ?? []) {
      const e = validateEndpointURI(u);
      if (e) f.error('.cluster.externalCloudProvider.manifests', `invalid external cloud provider manifest url ${JSON.stringify(u)}: ${e}`);
    }
  }
  if (c.etcd) {
    if (!isControlPlane) f.error('.cluster.etcd', 'etcd config is only allowed on control plane machines');
    else {
      if (!c.etcd.ca) f.error('.cluster.etcd.ca', 'key/cert combination should not be empty');
      if (c.etcd.subnet && c.etcd.advertisedSubnets?.length) f.error('.cluster.etcd.subnet', "etcd subnet can't be set when advertised subnets are set");
      for (const s of c.etcd.advertisedSubnets ?? []) if (!isSubnetOrAddress(s.replace(/^!/, ''))) f.error('.cluster.etcd.advertisedSubnets', `etcd advertised subnet is not valid: ${JSON.stringify(s.replace(/^!/, ''))}`);
      for (const s of c.etcd.listenSubnets ?? []) if (!isSubnetOrAddress(s.replace(/^!/, ''))) f.error('.cluster.etcd.listenSubnets', `etcd listen subnet is not valid: ${JSON.stringify(s.replace(/^!/, ''))}`);
    }
  }
  if (c.ca?.key && !isControlPlane) f.error('.cluster.ca.key', 'cluster CA key is not allowed on non-controlplane nodes (.cluster.ca)');
  const names = new Set<string>();
  (c.inlineManifests ?? []).forEach((m, i) => {
    if ((m.name ?? '').trim() === '') f.error(`.cluster.inlineManifests[${i}].name`, "inline manifest name can't be empty");
    if (names.has(m.name ?? '')) f.error(`.cluster.inlineManifests[${i}].name`, `inline manifest name ${JSON.stringify(m.name)} is duplicate`);
    names.add(m.name ?? '');
  });
  const d = c.discovery;
  if (d?.enabled && !d.registries?.service?.disabled) {
    const ep = d.registries?.service?.endpoint || 'https://discovery.talos.dev/';
    const u = parseGoURL(ep);
    if (typeof u === 'string' || !u.scheme || !ep.includes('/')) f.error('.cluster.discovery.registries.service.endpoint', `cluster discovery service registry endpoint is invalid: ${typeof u === 'string' ? u : `parse ${JSON.stringify(ep)}: invalid URI for request`}`);
    else if (u.path !== '' && u.path !== '/') f.error('.cluster.discovery.registries.service.endpoint', 'cluster discovery service path should be empty');
    if (!c.id) f.error('.cluster.id', 'cluster discovery service requires .cluster.id');
    if (!c.secret) f.error('.cluster.secret', 'cluster discovery service requires .cluster.secret');
  }
}

function checkCNI(f: Findings, c: ClusterSection | undefined): void {
  const cni = c?.network?.cni;
  const name = cni?.name ?? 'flannel';
  const urls = cni?.urls ?? [];
  const p = '.cluster.network.cni';
  const flannelArgs = cni?.flannel?.extraArgs ?? [];
  const policies = cni?.flannel?.kubeNetworkPoliciesEnabled ?? false;
  switch (name) {
    case 'flannel':
      if (urls.length) f.error(`${p}.urls`, `"urls" field should be empty for "flannel" CNI`);
      break;
    case 'none':
    case 'custom':
      if (name === 'none' && urls.length) f.error(`${p}.urls`, `"urls" field should be empty for "none" CNI`);
      if (name === 'custom' && !urls.length) f.warn(`${p}.urls`, `"urls" field should not be empty for "custom" CNI`);
      if (flannelArgs.length) f.error(`${p}.flannel.extraArgs`, `"flanneldExtraArgs" field should be empty for ${JSON.stringify(name)} CNI`);
      if (policies) f.error(`${p}.flannel.kubeNetworkPoliciesEnabled`, `"flannelKubeNetworkPoliciesEnabled" should not be enabled for ${JSON.stringify(name)} CNI`);
      if (name === 'custom') for (const u of urls) {
        const e = validateEndpointURI(u);
        if (e) f.error(`${p}.urls`, e);
      }
      break;
    default:
      f.error(`${p}.name`, 'cni name should be one of ["flannel", "custom", "none"]');
  }
}

/** The checks of Talos's v1alpha1 Config.Validate for a mode. */
export function validateV1Alpha1(cfg: V1Alpha1Config, mode: RuntimeMode): Findings {
  const f = new Findings();
  const m = cfg.machine;
  if (!m) {
    f.error('.machine', 'machine instructions are required');
    return f;
  }
  const type = machineTypeOf(m.type);
  const isControlPlane = type === 'init' || type === 'controlplane';
  checkCluster(f, cfg.cluster, isControlPlane);

  if (mode.requiresInstall) {
    const inst = m.install;
    if (!inst) f.error('.machine.install', `install instructions are required in ${JSON.stringify(mode.name)} mode`);
    else {
      if (inst.diskSelector?.size !== undefined && !/^\s*(>=|<=|>|<|==)?\s*[0-9][0-9,.]*\s*[a-zA-Z]*\s*$/.test(inst.diskSelector.size)) f.error('.machine.install.diskSelector.size', `install disk selector is invalid: failed to parse disk size ${JSON.stringify(inst.diskSelector.size)}`);
      const hasSelector = inst.diskSelector !== undefined && Object.keys(inst.diskSelector).length > 0;
      if (!inst.disk && !hasSelector) f.error('.machine.install', 'either install disk or diskSelector should be defined');
      if (inst.extraKernelArgs?.length && inst.grubUseUKICmdline) f.error('.machine.install', "install.extraKernelArgs and install.grubUseUKICmdline can't be used together");
    }
  }
  const hostDNS = m.features?.hostDNS;
  if (mode.inContainer) {
    if (!hostDNS?.enabled) f.error('.machine.features.hostDNS.enabled', 'feature HostDNS should be enabled in container mode (.machine.features.hostDNS.enabled)');
    if (!hostDNS?.forwardKubeDNSToHost) f.error('.machine.features.hostDNS.forwardKubeDNSToHost', 'feature HostDNS should forward kube-dns to host in container mode (.machine.features.hostDNS.forwardKubeDNSToHost)');
  }
  if (hostDNS?.forwardKubeDNSToHost && !hostDNS.enabled) f.error('.machine.features.hostDNS', 'feature hostDNS.forwardKubeDNSToHost requires hostDNS.enabled to be true (.machine.features.hostDNS)');
  if (type && type !== (m.type ?? '')) f.warn('.machine.type', `use ${JSON.stringify(type)} instead of ${JSON.stringify(m.type ?? '')} for machine type`);

  const ca = m.ca;
  if (!ca && !m.acceptedCAs?.length) f.error('.machine.ca', 'issuing CA or some accepted CAs are required (.machine.ca, machine.acceptedCAs)');
  switch (type) {
    case 'init':
    case 'controlplane':
      checkCNI(f, cfg.cluster);
      if (!ca) f.error('.machine.ca', 'issuing CA is required (.machine.ca)');
      else if (!ca.key) f.error('.machine.ca.key', 'issuing CA key is required for controlplane nodes (.machine.ca.key)');
      break;
    case 'worker':
      (m.network?.interfaces ?? []).forEach((d, i) => {
        if (d.vip) f.error(`.machine.network.interfaces[${i}].vip`, 'virtual (shared) IP is not allowed on non-controlplane nodes');
        (d.vlans ?? []).forEach((v, j) => {
          if (v.vip) f.error(`.machine.network.interfaces[${i}].vlans[${j}].vip`, 'virtual (shared) IP is not allowed on non-controlplane nodes');
        });
      });
      if (ca) {
        if (ca.key) f.error('.machine.ca.key', 'issuing Talos API CA key is not allowed on non-controlplane nodes (.machine.ca)');
        if (!ca.crt && !m.acceptedCAs?.length) f.error('.machine.ca.crt', 'trusted CA certificates are required on non-controlplane nodes (.machine.ca.crt, .machine.acceptedCAs)');
      }
      if (cfg.cluster?.ca?.key) f.error('.cluster.ca.key', 'issuing Kubernetes API CA key is not allowed on non-controlplane nodes (.cluster.ca)');
      break;
    default:
      f.error('.machine.type', `unknown machine type ${JSON.stringify(m.type ?? '')}`);
  }

  const net = m.network;
  if (net) {
    const secondary = new Map<string, string>();
    (net.interfaces ?? []).forEach((d, i) => {
      const p = `.machine.network.interfaces[${i}]`;
      if (d.bond && d.bridge) f.error(p, `interface has both bridge and bond sections set ${JSON.stringify(d.interface ?? '')}: config sections are mutually exclusive`);
      let members: string[] = [];
      if (d.bond) {
        members = d.bond.interfaces ?? [];
        if (d.bond.interfaces?.length && d.bond.deviceSelectors?.length) f.error(`${p}.bond`, `interface ${JSON.stringify(d.interface ?? '')} has both interfaces and selectors set: config sections are mutually exclusive`);
      }
      if (d.bridge) members = d.bridge.interfaces ?? [];
      for (const member of members) {
        const other = secondary.get(member);
        if (other !== undefined && other !== (d.interface ?? '')) f.error(p, `interface ${JSON.stringify(member)} is declared as part of two separate links: ${JSON.stringify(other)} and ${JSON.stringify(d.interface ?? '')}`);
        secondary.set(member, d.interface ?? '');
      }
    });
    (net.interfaces ?? []).forEach((d, i) => checkDevice(f, `.machine.network.interfaces[${i}]`, d, secondary));
    const ks = net.kubespan;
    if (ks?.enabled && ks.mtu !== undefined && ks.mtu < 1280) f.error('.machine.network.kubespan.mtu', 'kubespan link MTU must be at least 1280');
  }

  (m.disks ?? []).forEach((disk, i) => {
    const parts = disk.partitions ?? [];
    parts.forEach((pt, j) => {
      const size = pt.size ?? 0;
      if ((size === 0 || size === '') && j !== parts.length - 1) f.error(`.machine.disks[${i}].partitions[${j}].size`, `partition for disk ${JSON.stringify(disk.device ?? '')} is set to occupy full disk, but it's not the last partition in the list`);
    });
  });

  const kubelet = m.kubelet;
  if (kubelet) {
    for (const s of kubelet.nodeIP?.validSubnets ?? []) {
      const c = s.replace(/^!/, '');
      if (!isSubnetOrAddress(c)) f.error('.machine.kubelet.nodeIP.validSubnets', `kubelet nodeIP subnet is not valid: ${JSON.stringify(c)}`);
    }
    const extra = (kubelet.extraConfig ?? {}) as Record<string, unknown>;
    for (const field of protectedKubeletFields) if (Object.hasOwn(extra, field)) f.error(`.machine.kubelet.extraConfig.${field}`, `kubelet configuration field ${JSON.stringify(field)} can't be overridden`);
  }

  for (const label of ['EPHEMERAL', 'STATE'] as const) {
    const enc = label === 'STATE' ? m.systemDiskEncryption?.state : m.systemDiskEncryption?.ephemeral;
    if (!enc) continue;
    const p = `.machine.systemDiskEncryption.${label === 'STATE' ? 'state' : 'ephemeral'}`;
    if (!enc.keys?.length) f.error(`${p}.keys`, `partition ${JSON.stringify(label)}: no encryption keys provided`);
    const slots = new Set<number>();
    (enc.keys ?? []).forEach((k, i) => {
      const slot = k.slot ?? 0;
      if (slots.has(slot)) f.error(`${p}.keys[${i}].slot`, `partition ${JSON.stringify(label)}: encryption key slot ${slot} is already in use`);
      slots.add(slot);
      if (!k.nodeID && !k.static && !k.kms && !k.tpm) f.error(`${p}.keys[${i}]`, `partition ${JSON.stringify(label)}: encryption key at slot ${slot} doesn't have the configuration parameters`);
    });
  }

  const ks = net?.kubespan;
  if (ks?.enabled) {
    const c = cfg.cluster;
    if (!c?.discovery?.enabled) f.error('.cluster.discovery.enabled', '.cluster.discovery should be enabled when .machine.network.kubespan is enabled');
    if (!c?.id) f.error('.cluster.id', '.cluster.id should be set when .machine.network.kubespan is enabled');
    if (!c?.secret) f.error('.cluster.secret', '.cluster.secret should be set when .machine.network.kubespan is enabled');
    for (const e of ks.filters?.endpoints ?? []) if (!isSubnetOrAddress(e.replace(/^!/, ''))) f.error('.machine.network.kubespan.filters.endpoints', `KubeSpan endpoint filter is not valid: ${JSON.stringify(e.replace(/^!/, ''))}`);
    for (const e of ks.filters?.excludeAdvertisedNetworks ?? []) if (!isCIDR(e)) f.error('.machine.network.kubespan.filters.excludeAdvertisedNetworks', `KubeSpan exclude advertised networks filter is not valid: ${JSON.stringify(e)}`);
  }

  (m.logging?.destinations ?? []).forEach((d, i) => {
    const p = `.machine.logging.destinations[${i}]`;
    const u = d.endpoint ? parseGoURL(d.endpoint) : undefined;
    if (!d.endpoint || typeof u === 'string' || !u) f.error(`${p}.endpoint`, 'empty logging endpoint');
    else {
      if (u.host === '') f.error(`${p}.endpoint`, "empty logging endpoint's host");
      if (u.scheme !== 'tcp' && u.scheme !== 'udp') f.error(`${p}.endpoint`, `unexpected logging endpoint scheme ${JSON.stringify(u.scheme)}`);
    }
    if (d.format !== 'json_lines') f.error(`${p}.format`, `unknown logging format ${JSON.stringify(d.format ?? '')}`);
  });

  const extensions = new Set<string>();
  (m.install?.extensions ?? []).forEach((e, i) => {
    if (extensions.has(e.image ?? '')) f.error(`.machine.install.extensions[${i}].image`, `duplicate system extension ${JSON.stringify(e.image ?? '')}`);
    extensions.add(e.image ?? '');
  });
  if (extensions.size) f.warn('.machine.install.extensions', '.machine.install.extensions is deprecated, please see https://docs.siderolabs.com/talos/latest/platform-specific-installations/boot-assets');
  if (m.files?.length) f.warn('.machine.files', '.machine.files is deprecated, use system extensions or the EtcFileConfig document');
  if (m.baseRuntimeSpecOverrides && Object.keys(m.baseRuntimeSpecOverrides).length) f.warn('.machine.baseRuntimeSpecOverrides', '.machine.baseRuntimeSpecOverrides is deprecated');

  checkNodeMetadata(f, '.machine', m.nodeLabels, m.nodeAnnotations, m.nodeTaints);

  const access = m.features?.kubernetesTalosAPIAccess;
  if (access?.enabled) {
    if (!isControlPlane) f.error('.machine.features.kubernetesTalosAPIAccess.enabled', 'feature Kubernetes Talos API Access can only be enabled on control plane machines');
    for (const r of access.allowedRoles ?? []) if (!(allRoles as readonly string[]).includes(r)) f.error('.machine.features.kubernetesTalosAPIAccess.allowedRoles', `invalid role ${JSON.stringify(r)} in allowed roles for Kubernetes Talos API Access`);
  }
  const sort = m.features?.nodeAddressSortAlgorithm;
  if (sort && sort !== 'v1' && sort !== 'v2') f.error('.machine.features.nodeAddressSortAlgorithm', `invalid node address sort algorithm: ${sort} does not belong to AddressSortAlgorithm values`);
  if (cfg.persist === false) f.error('.persist', '.persist should be enabled');
  return f;
}
