import { isIP } from 'node:net';
import { join } from 'node:path';
import type { EtcdSpecSpec } from '../../resources/etcd/spec.js';

export const EtcdClientPort = 2379;
export const EtcdPeerPort = 2380;

/** Where a node keeps etcd's files (Talos: /system/secrets/etcd, /var/lib/etcd, /var/lib/etcd.snapshot). */
export interface EtcdPaths {
  pki: string;
  data: string;
  /** the snapshot EtcdRecover uploads and `Bootstrap{recover_etcd}` restores */
  recoverySnapshot: string;
}

/** The node's etcd paths under its system roots (`/system`, `/var` on metal). */
export function etcdPaths(roots: { system: string; var: string }): EtcdPaths {
  return { pki: join(roots.system, 'secrets', 'etcd'), data: join(roots.var, 'lib', 'etcd'), recoverySnapshot: join(roots.var, 'lib', 'etcd.snapshot') };
}

/** The certificate files in the PKI directory, named as Talos names them. */
export const pkiFiles = (pki: string) => ({
  caCert: join(pki, 'ca.crt'),
  cert: join(pki, 'server.crt'),
  key: join(pki, 'server.key'),
  peerCert: join(pki, 'peer.crt'),
  peerKey: join(pki, 'peer.key'),
  adminCert: join(pki, 'admin.crt'),
  adminKey: join(pki, 'admin.key'),
});

const hostPort = (addr: string, port: number) => (isIP(addr) === 6 ? `[${addr}]:${port}` : `${addr}:${port}`);

/** `https://<addr>:<port>` for each address. */
export const etcdURLs = (addrs: string[], port: number): string[] => addrs.map((a) => `https://${hostPort(a, port)}`);

/** `name=url,...` for one member. */
export const initialClusterOf = (name: string, peerURLs: string[]): string => peerURLs.map((u) => `${name}=${u}`).join(',');

/**
 * The endpoint machined reaches its own member at: the first address etcd listens for clients on, or the loopback
 * address when it listens on every address (Talos: localhost:2379).
 */
export function localClientEndpoint(spec: Pick<EtcdSpecSpec, 'listenClientAddresses'>): string {
  const a = spec.listenClientAddresses[0];
  const addr = !a || a === '0.0.0.0' ? '127.0.0.1' : a === '::' ? '::1' : a;
  return `https://${hostPort(addr, EtcdClientPort)}`;
}

export interface EtcdArgsInput {
  spec: EtcdSpecSpec;
  paths: EtcdPaths;
  /** the data directory holds no member yet */
  dataEmpty: boolean;
  /** this member starts a new cluster (bootstrap, or an `init` node) */
  bootstrap: boolean;
  /** `name=peerURL,...` of the cluster this member joins (when not bootstrapping and the data directory is empty) */
  initialCluster?: string;
  /** etcd supports flags added in 3.5 */
  etcd35: boolean;
}

export class EtcdArgsError extends Error {
  readonly code = 'BRONZE_ETCD_ARGS';
}

/**
 * etcd's command-line flags as Talos sets them for a control plane: the flags it owns (name, TLS, data directory,
 * listen URLs) cannot be overridden by `extraArgs`; the initial cluster, its state and the advertised URLs can.
 */
export function etcdArgs(i: EtcdArgsInput): string[] {
  const f = pkiFiles(i.paths.pki);
  const owned = new Map<string, string>([
    ['name', i.spec.name],
    ['auto-tls', 'false'],
    ['peer-auto-tls', 'false'],
    ['data-dir', i.paths.data],
    ['listen-peer-urls', etcdURLs(i.spec.listenPeerAddresses, EtcdPeerPort).join(',')],
    ['listen-client-urls', etcdURLs(i.spec.listenClientAddresses, EtcdClientPort).join(',')],
    ['client-cert-auth', 'true'],
    ['cert-file', f.cert],
    ['key-file', f.key],
    ['trusted-ca-file', f.caCert],
    ['peer-client-cert-auth', 'true'],
    ['peer-cert-file', f.peerCert],
    ['peer-key-file', f.peerKey],
    ['peer-trusted-ca-file', f.caCert],
    ['experimental-initial-corrupt-check', 'true'],
    ['experimental-watch-progress-notify-interval', '5s'],
  ]);
  if (i.etcd35) owned.set('experimental-compact-hash-check-enabled', 'true');
  const extra = i.spec.extraArgs;
  for (const k of Object.keys(extra)) {
    if (owned.has(k)) throw new EtcdArgsError(`extra arg "${k}" is not allowed: the node sets it`);
  }
  const set = new Map(owned);
  const peerURLs = etcdURLs(i.spec.advertisedAddresses, EtcdPeerPort);
  if (i.dataEmpty) {
    if (!extra['initial-cluster-state']) set.set('initial-cluster-state', i.bootstrap ? 'new' : 'existing');
    if (!extra['initial-cluster']) {
      const initial = i.bootstrap ? initialClusterOf(i.spec.name, peerURLs) : i.initialCluster;
      if (!initial) throw new EtcdArgsError('joining an etcd cluster needs its initial cluster');
      set.set('initial-cluster', initial);
    }
  }
  if (!extra['advertise-client-urls']) set.set('advertise-client-urls', etcdURLs(i.spec.advertisedAddresses, EtcdClientPort).join(','));
  if (!extra['initial-advertise-peer-urls']) set.set('initial-advertise-peer-urls', peerURLs.join(','));
  const args = [...set].map(([k, v]) => `--${k}=${v}`);
  for (const [k, v] of Object.entries(extra)) for (const value of v.values) args.push(`--${k}=${value}`);
  return args.sort();
}
