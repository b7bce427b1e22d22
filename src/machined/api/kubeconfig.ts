/**
 * Kubeconfig: the cluster's admin kubeconfig, issued from the Kubernetes CA of the running config, and the tar.gz
 * the RPC streams it in. Pure: the caller passes the running config text.
 */
import { status } from '@grpc/grpc-js';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { stringify } from 'yaml';
import { parseGoDuration } from '../../config/decode.js';
import { issueKeyPair } from '../../pki/cert.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { encodeTarHeader, padding, TAR_END } from '../../sys/files/tar.js';
import { caFromConfig, requireControlPlane } from './client-config.js';
import { GrpcStatusError } from './grpc-error.js';

const gzipAsync = promisify(gzip);

/** The API name Talos puts in the control plane check messages of Kubeconfig. */
export const KUBECONFIG_API = 'kubeconfig';

/** Talos's fixed subject of the admin certificate. */
export const ADMIN_COMMON_NAME = 'admin';
export const ADMIN_ORGANIZATION = 'system:masters';
/** Default of `cluster.adminKubeconfig.certLifetime`: 365 × 24 h. */
export const ADMIN_CERT_DEFAULT_LIFETIME_MS = 365 * 24 * 3_600_000;
/** How far back the admin certificate's notBefore goes, for clocks that lag. */
const ALLOWED_TIME_SKEW_MS = 10_000;

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * The admin kubeconfig of a control plane: a new key of the Kubernetes CA's algorithm with a certificate
 * (CN admin, O system:masters, digitalSignature+keyEncipherment, clientAuth) valid from `now` − 10 s for
 * `cluster.adminKubeconfig.certLifetime` (one year by default); the server is `cluster.controlPlane.endpoint` and
 * the trusted CAs are `cluster.acceptedCAs` followed by `cluster.ca`. The YAML has the shape kubectl's writer gives:
 * keys sorted, lists unindented, no `preferences`.
 */
export async function adminKubeconfig(configText: string | undefined, now: Date = new Date()): Promise<string> {
  const cfg = requireControlPlane(configText, KUBECONFIG_API);
  const cluster = cfg.v1alpha1?.cluster;
  const ca = caFromConfig(cluster?.ca, 'cluster.ca', 'error getting Kubernetes CA');
  const configured = cluster?.adminKubeconfig?.certLifetime ? parseGoDuration(cluster.adminKubeconfig.certLifetime) : undefined;
  const lifetimeMs = configured || ADMIN_CERT_DEFAULT_LIFETIME_MS;
  let client;
  try {
    client = await issueKeyPair(ca, {
      subject: { commonName: ADMIN_COMMON_NAME, organization: [ADMIN_ORGANIZATION] },
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['clientAuth'],
      notBefore: new Date(now.getTime() - ALLOWED_TIME_SKEW_MS),
      notAfter: new Date(now.getTime() + lifetimeMs),
    });
  } catch (e) {
    throw new GrpcStatusError(status.UNKNOWN, `error generating Kubernetes client certificate: ${(e as Error).message}`);
  }
  const trusted = (cluster?.acceptedCAs ?? []).filter((c) => c.crt).map((c, i) => fromBase64PEM(c.crt!, `cluster.acceptedCAs[${i}].crt`));
  trusted.push(ca.certPEM);

  const clusterName = cluster?.clusterName ?? '';
  const name = `${ADMIN_COMMON_NAME}@${clusterName}`;
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': base64(trusted.join('')), server: cluster?.controlPlane?.endpoint ?? '' }, name: clusterName }],
      contexts: [{ context: { cluster: clusterName, namespace: 'default', user: name }, name }],
      'current-context': name,
      kind: 'Config',
      users: [{ name, user: { 'client-certificate-data': base64(client.certPEM), 'client-key-data': base64(client.keyPEM) } }],
    },
    { indent: 2, indentSeq: false, lineWidth: 0 },
  );
}

/** The Kubeconfig RPC's payload: a gzip'd tar with the single regular file `kubeconfig`, mode 0600, owned by root. */
export async function kubeconfigArchive(yaml: string): Promise<Buffer> {
  const body = Buffer.from(yaml, 'utf8');
  const header = encodeTarHeader({ name: 'kubeconfig', mode: 0o600, uid: 0, gid: 0, size: body.length, mtime: Math.floor(Date.now() / 1000), type: 'file' });
  return gzipAsync(Buffer.concat([header, body, padding(body.length), TAR_END]));
}
