import type { MachineConfig } from './document.js';

/** A route a config asks for on a link. */
export interface LinkRouteSettings {
  /** CIDR; empty for the default route */
  destination: string;
  gateway: string;
  source: string;
  metric: number;
  mtu: number;
}

/** What a config says about one link (legacy `machine.network.interfaces[]` or a `LinkConfig` document). */
export interface LinkSettings {
  name: string;
  up: boolean;
  mtu: number;
  addresses: string[];
  routes: LinkRouteSettings[];
  dhcp: boolean;
}

/** Talos's metric for routes that do not name one. */
export const DEFAULT_ROUTE_METRIC = 1024;

const isDefault = (cidr: string) => cidr === '' || cidr === '0.0.0.0/0' || cidr === '::/0';

/**
 * The links a config configures, by name: legacy interfaces (named ones; an `ignore`d interface is left alone) and
 * LinkConfig documents (which win for the same link).
 */
export function linkSettings(cfg: MachineConfig): LinkSettings[] {
  const out = new Map<string, LinkSettings>();
  type Iface = { interface?: string; ignore?: boolean; mtu?: number; addresses?: string[]; cidr?: string; dhcp?: boolean; routes?: { network?: string; gateway?: string; source?: string; metric?: number; mtu?: number }[] };
  for (const i of ((cfg.v1alpha1?.machine?.network as { interfaces?: Iface[] } | undefined)?.interfaces ?? [])) {
    if (!i.interface || i.ignore) continue;
    out.set(i.interface, {
      name: i.interface,
      up: true,
      mtu: i.mtu ?? 0,
      addresses: [...(i.addresses ?? []), ...(i.cidr ? [i.cidr] : [])],
      routes: (i.routes ?? []).map((r) => ({ destination: isDefault(r.network ?? '') ? '' : (r.network ?? ''), gateway: r.gateway ?? '', source: r.source ?? '', metric: r.metric || DEFAULT_ROUTE_METRIC, mtu: r.mtu ?? 0 })),
      dhcp: i.dhcp === true,
    });
  }
  type Doc = { name?: string; up?: boolean; mtu?: number; addresses?: { address?: string }[]; routes?: { destination?: string; gateway?: string; source?: string; metric?: number; mtu?: number }[] };
  for (const d of cfg.findAll('LinkConfig')) {
    const v = d.value as Doc;
    if (!v.name) continue;
    out.set(v.name, {
      name: v.name,
      up: v.up ?? true,
      mtu: v.mtu ?? 0,
      addresses: (v.addresses ?? []).map((a) => a.address ?? '').filter(Boolean),
      routes: (v.routes ?? []).map((r) => ({ destination: isDefault(r.destination ?? '') ? '' : (r.destination ?? ''), gateway: r.gateway ?? '', source: r.source ?? '', metric: r.metric || DEFAULT_ROUTE_METRIC, mtu: r.mtu ?? 0 })),
      dhcp: cfg.findAll('DHCPv4Config').some((x) => (x.value as { name?: string }).name === v.name),
    });
  }
  return [...out.values()];
}

/** Links the config tells the node to leave alone (legacy interfaces with `ignore: true`). */
export function ignoredLinks(cfg: MachineConfig): string[] {
  type Iface = { interface?: string; ignore?: boolean };
  return ((cfg.v1alpha1?.machine?.network as { interfaces?: Iface[] } | undefined)?.interfaces ?? []).filter((i) => i.ignore && i.interface).map((i) => i.interface!);
}

/**
 * Whether the node runs DHCP on its physical links by default (Talos's default DHCP operators): when the config
 * configures no links itself (no legacy interfaces, no link or DHCP documents), or there is no config yet.
 */
export function runsDefaultDHCP(cfg: MachineConfig | undefined): boolean {
  if (!cfg) return true;
  const ifaces = (cfg.v1alpha1?.machine?.network as { interfaces?: unknown[] } | undefined)?.interfaces ?? [];
  const docs = ['LinkConfig', 'DHCPv4Config', 'DHCPv6Config', 'BondConfig', 'BridgeConfig', 'VLANConfig', 'LinkAliasConfig'].some((k) => cfg.findAll(k).length > 0);
  return ifaces.length === 0 && !docs;
}
