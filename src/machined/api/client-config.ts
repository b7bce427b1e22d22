/**
 * GenerateClientConfiguration: a Talos API client certificate signed by the OS CA of the running config, and a
 * talosconfig holding it. Pure: the caller passes the running config text and the request.
 */
import { status } from '@grpc/grpc-js';
import { serializeTalosconfig } from '../../client/talosconfig.js';
import type { MachineConfig } from '../../config/document.js';
import { loadConfig } from '../../config/loader.js';
import { type CertificateAuthority, issueKeyPair, loadCA } from '../../pki/cert.js';
import { toBase64PEM } from '../../pki/pem.js';
import { GrpcStatusError } from './grpc-error.js';

/** The API name Talos puts in the control plane check messages of GenerateClientConfiguration. */
export const CLIENT_CONFIG_API = 'generate client configuration';

/** The request as the generated gRPC types carry it (a protobuf Duration for the TTL). */
export interface ClientConfigRequest {
  roles: string[];
  crtTtl?: { seconds: string; nanos: number } | undefined;
}

export interface ClientConfigResult {
  /** PEM of the OS CA certificate */
  ca: Buffer;
  /** PEM of the new client certificate */
  crt: Buffer;
  /** PEM of its key, under Talos's label (`ED25519 PRIVATE KEY` for the default Ed25519 CA) */
  key: Buffer;
  /** talosconfig YAML with one context and no endpoints */
  talosconfig: Buffer;
}

/** Go's time.Duration bounds (nanoseconds, int64): protobuf durations saturate to them. */
const MAX_DURATION_NS = (1n << 63n) - 1n;
const MIN_DURATION_NS = -(1n << 63n);

/** The protobuf duration in milliseconds, saturated as Go's AsDuration; 0 when absent or malformed. */
function durationMs(d: ClientConfigRequest['crtTtl']): number {
  if (!d) return 0;
  let ns: bigint;
  try {
    ns = BigInt(d.seconds || '0') * 1_000_000_000n + BigInt(Math.trunc(d.nanos || 0));
  } catch {
    return 0;
  }
  if (ns > MAX_DURATION_NS) ns = MAX_DURATION_NS;
  if (ns < MIN_DURATION_NS) ns = MIN_DURATION_NS;
  return Number(ns) / 1e6;
}

/** Talos's machine type parsing: `init` and `controlplane` are control planes; ``, `worker`, `join` are workers. */
function isControlPlaneType(t: string | undefined): boolean {
  return t === 'init' || t === 'controlplane';
}

/**
 * The running config when this node is a control plane, else the Unimplemented error Talos answers with:
 * `machine type is not set, cannot use <api> API` without a config, `<api> is only available on control plane
 * nodes` otherwise (workers, and configs without a machine section, whose type is unknown).
 */
export function requireControlPlane(configText: string | undefined, api: string): MachineConfig {
  if (configText === undefined || configText.trim() === '') throw new GrpcStatusError(status.UNIMPLEMENTED, `machine type is not set, cannot use ${api} API`);
  let cfg: MachineConfig;
  try {
    cfg = loadConfig(configText);
  } catch (e) {
    throw new GrpcStatusError(status.UNKNOWN, `failed to load the machine config: ${(e as Error).message}`);
  }
  if (!isControlPlaneType(cfg.v1alpha1?.machine?.type)) throw new GrpcStatusError(status.UNIMPLEMENTED, `${api} is only available on control plane nodes`);
  return cfg;
}

/** A CA from the base64 PEM pair of a config; a missing or broken pair is an error of code Unknown. */
export function caFromConfig(pair: { crt?: string; key?: string } | undefined, field: string, what: string): CertificateAuthority {
  if (!pair?.crt) throw new GrpcStatusError(status.UNKNOWN, `${what}: the machine config has no certificate (${field}.crt)`);
  if (!pair.key) throw new GrpcStatusError(status.UNKNOWN, `${what}: the machine config has no key (${field}.key)`);
  try {
    return loadCA(pair.crt, pair.key, field);
  } catch (e) {
    throw new GrpcStatusError(status.UNKNOWN, `${what}: ${(e as Error).message}`);
  }
}

/** Roles as Talos parses them: trimmed, empty ones dropped, unknown ones kept, no duplicates, sorted byte-wise. */
export function normalizeRoles(roles: readonly string[]): string[] {
  const set = new Set<string>();
  for (const r of roles) {
    const t = r.trim();
    if (t) set.add(t);
  }
  return [...set].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The talosconfig context name: `<role without os:>@<cluster>` for exactly one role, else the cluster name. */
export function clientContextName(roles: readonly string[], clusterName: string): string {
  return roles.length === 1 ? `${roles[0]!.replace(/^os:/, '')}@${clusterName}` : clusterName;
}

/**
 * GenerateClientConfiguration on a control plane: a new key of the OS CA's algorithm and a certificate for it with
 * the roles as organizations, digitalSignature and clientAuth only, valid from `now` for `crtTtl`; and a
 * talosconfig with that certificate, the OS CA and no endpoints.
 */
export async function generateClientConfiguration(configText: string | undefined, req: ClientConfigRequest, now: Date = new Date()): Promise<ClientConfigResult> {
  const cfg = requireControlPlane(configText, CLIENT_CONFIG_API);
  const ttlMs = durationMs(req.crtTtl);
  if (!(ttlMs > 0)) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'crt_ttl should be positive');
  const roles = normalizeRoles(req.roles ?? []);
  const v1 = cfg.v1alpha1;
  const ca = caFromConfig(v1?.machine?.ca, 'machine.ca', 'OS CA');
  let client;
  try {
    client = await issueKeyPair(ca, {
      subject: { organization: roles },
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['clientAuth'],
      notBefore: now,
      notAfter: new Date(now.getTime() + ttlMs),
    });
  } catch (e) {
    throw new GrpcStatusError(status.UNKNOWN, `failed to generate the client certificate: ${(e as Error).message}`);
  }
  const caPEM = ca.certPEM;
  const context = clientContextName(roles, v1?.cluster?.clusterName ?? '');
  const talosconfig = serializeTalosconfig({
    context,
    contexts: { [context]: { endpoints: [], ca: toBase64PEM(caPEM), crt: toBase64PEM(client.certPEM), key: toBase64PEM(client.keyPEM) } },
  });
  return { ca: Buffer.from(caPEM), crt: Buffer.from(client.certPEM), key: Buffer.from(client.keyPEM), talosconfig: Buffer.from(talosconfig) };
}
