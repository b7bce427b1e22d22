import { status } from '@grpc/grpc-js';
import { serializeTalosconfig } from '../../client/talosconfig.js';
import type { MachineConfig } from '../../config/document.js';
import { issueKeyPair, loadCA } from '../../pki/cert.js';
import { fromBase64PEM, toBase64PEM } from '../../pki/pem.js';
import { checkControlPlane, GrpcStatusError } from './grpc-error.js';

export interface ClientConfigurationRequest {
  roles: string[];
  crtTtl?: { seconds: string; nanos: number };
}

/**
 * GenerateClientConfiguration: a client certificate signed by the OS CA of the running config (control planes only),
 * with the requested roles as its organizations and the requested lifetime, and a talosconfig using it: its context
 * is `<role>@<cluster>` for a single role (without `os:`), else the cluster name; no endpoints.
 */
export async function generateClientConfiguration(cfg: MachineConfig | undefined, machineType: string | undefined, req: ClientConfigurationRequest, now = new Date()) {
  checkControlPlane(machineType, 'generate client configuration');
  const ttlMs = req.crtTtl ? Number(req.crtTtl.seconds) * 1000 + req.crtTtl.nanos / 1e6 : 0;
  if (!(ttlMs > 0)) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'crt_ttl should be positive');
  const machine = cfg?.v1alpha1?.machine;
  const ca = machine?.ca as { crt?: string; key?: string } | undefined;
  if (!ca?.crt || !ca.key) throw new GrpcStatusError(status.FAILED_PRECONDITION, 'the machine config has no OS CA key (machine.ca.key)');
  const caPEM = fromBase64PEM(ca.crt, 'machine.ca.crt');
  const roles = [...new Set(req.roles)].sort();
  const client = await issueKeyPair(loadCA(caPEM, fromBase64PEM(ca.key, 'machine.ca.key'), 'machine.ca'), {
    subject: { organization: roles },
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
    notBefore: now,
    notAfter: new Date(now.getTime() + ttlMs),
  });
  const cluster = (cfg?.v1alpha1?.cluster as { clusterName?: string } | undefined)?.clusterName ?? '';
  const context = roles.length === 1 ? `${roles[0]!.replace(/^os:/, '')}@${cluster}` : cluster;
  const talosconfig = serializeTalosconfig({ context, contexts: { [context]: { endpoints: [], ca: ca.crt, crt: toBase64PEM(client.certPEM), key: toBase64PEM(client.keyPEM) } } });
  return { ca: Buffer.from(caPEM), crt: Buffer.from(client.certPEM), key: Buffer.from(client.keyPEM), talosconfig: Buffer.from(talosconfig) };
}
