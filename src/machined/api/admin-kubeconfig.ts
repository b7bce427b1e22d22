import { status } from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { parseGoDuration } from '../../config/decode.js';
import type { MachineConfig } from '../../config/document.js';
import { issueKeyPair, loadCA } from '../../pki/cert.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { encodeTarHeader, padding } from '../../sys/files/tar.js';
import { checkControlPlane, GrpcStatusError } from './grpc-error.js';

const YEAR_MS = 365 * 24 * 3_600_000;
const ALLOWED_SKEW_MS = 10_000;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * The admin kubeconfig of the cluster (control planes only): a client certificate from the Kubernetes CA of the
 * config (`cluster.adminKubeconfig`: CN admin, O system:masters, one year by default), the control plane endpoint
 * and the accepted CAs, in the layout kubectl writes.
 */
export async function adminKubeconfig(cfg: MachineConfig | undefined, machineType: string | undefined, now = new Date()): Promise<string> {
  checkControlPlane(machineType, 'kubeconfig');
  const cluster = cfg?.v1alpha1?.cluster as
    | { clusterName?: string; controlPlane?: { endpoint?: string }; ca?: { crt?: string; key?: string }; acceptedCAs?: { crt?: string }[]; adminKubeconfig?: { certLifetime?: string; commonName?: string; certOrganization?: string } }
    | undefined;
  if (!cluster?.ca?.crt || !cluster.ca.key) throw new GrpcStatusError(status.FAILED_PRECONDITION, 'the machine config has no Kubernetes CA key (cluster.ca.key)');
  const name = cluster.clusterName ?? '';
  const lifetime = (cluster.adminKubeconfig?.certLifetime && parseGoDuration(cluster.adminKubeconfig.certLifetime)) || YEAR_MS;
  const caPEM = fromBase64PEM(cluster.ca.crt, 'cluster.ca.crt');
  const client = await issueKeyPair(loadCA(caPEM, fromBase64PEM(cluster.ca.key, 'cluster.ca.key'), 'cluster.ca'), {
    subject: { commonName: cluster.adminKubeconfig?.commonName || 'admin', organization: [cluster.adminKubeconfig?.certOrganization || 'system:masters'] },
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    extKeyUsage: ['clientAuth'],
    notBefore: new Date(now.getTime() - ALLOWED_SKEW_MS),
    notAfter: new Date(now.getTime() + lifetime),
  });
  const serverCAs = [...(cluster.acceptedCAs ?? []).filter((c) => c.crt).map((c) => fromBase64PEM(c.crt!, 'cluster.acceptedCAs')), caPEM].join('');
  const user = `admin@${name}`;
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': b64(serverCAs), server: cluster.controlPlane?.endpoint ?? '' }, name }],
      contexts: [{ context: { cluster: name, namespace: 'default', user }, name: user }],
      'current-context': user,
      kind: 'Config',
      preferences: {},
      users: [{ name: user, user: { 'client-certificate-data': b64(client.certPEM), 'client-key-data': b64(client.keyPEM) } }],
    },
    { indentSeq: false, lineWidth: 0 },
  );
}

/** A gzip'd tar holding the file `kubeconfig` (mode 0600), as the Kubeconfig RPC sends it. */
export function kubeconfigArchive(text: string, now = new Date()): Buffer {
  const body = Buffer.from(text);
  const header = encodeTarHeader({ name: 'kubeconfig', mode: 0o600, uid: 0, gid: 0, size: body.length, mtime: Math.floor(now.getTime() / 1000), type: 'file' });
  return gzipSync(Buffer.concat([header, body, padding(body.length), Buffer.alloc(1024)]));
}
