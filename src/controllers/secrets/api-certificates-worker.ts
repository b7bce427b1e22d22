import { credentials, Metadata } from '@grpc/grpc-js';
import { SecurityServiceClient } from '../../api/gen/security/security.js';
import { createCSR, generatePrivateKey, privateKeyToPEM } from '../../pki/index.js';
import type { MachineConfigSpec } from '../../resources/config/machine-config.js';
import type { ApiCertificatesSpec } from '../../resources/secrets/api-certificates.js';
import type { CertSANSpec } from '../../resources/secrets/cert-sans.js';
import type { OSRootSpec } from '../../resources/secrets/os-root.js';
import { parsedConfig } from '../config/machine-config-cache.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const splitPEM = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];

export interface WorkerAPICertificatesOptions {
  /** trustd's port on the control planes (default 50001) */
  trustdPort?: number;
  /** how long one request to trustd may take (default 10 s) */
  requestTimeoutMs?: number;
  /** delay before trying trustd again after a failure (default 5 s) */
  retryMs?: number;
}

/** Where a worker finds trustd: the control plane endpoint of its config (`cluster.controlPlane.endpoint`). */
export function trustdEndpoints(cfg: MachineConfigSpec | undefined, port: number): string[] {
  if (!cfg) return [];
  const endpoint = (parsedConfig({ spec: cfg } as never).v1alpha1?.cluster?.controlPlane as { endpoint?: string } | undefined)?.endpoint;
  if (!endpoint) return [];
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    return [host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`];
  } catch {
    return [];
  }
}

/**
 * On a worker: a key made here and a CSR for the node's names, signed by trustd on the control plane (authenticated
 * with the machine token, trustd verified against the accepted CAs). Workers get no client certificate: they do not
 * forward calls.
 */
export async function workerCertificates(cfg: MachineConfigSpec | undefined, root: OSRootSpec, sans: CertSANSpec, opts: WorkerAPICertificatesOptions): Promise<ApiCertificatesSpec> {
  const endpoints = trustdEndpoints(cfg, opts.trustdPort ?? 50001);
  const key = await generatePrivateKey('ed25519');
  const csr = await createCSR(key, { subject: { commonName: sans.fqdn || 'talos' }, ipAddresses: sans.ips, dnsNames: sans.dnsNames });
  const ca = root.acceptedCAs.map((c) => Buffer.from(c.crt, 'base64').toString()).join('');
  const signed = await requestFromTrustd(endpoints, ca, root.token, csr, opts.requestTimeoutMs ?? 10_000);
  return { server: { crt: b64(signed.crt), key: b64(privateKeyToPEM(key)) }, acceptedCAs: splitPEM(signed.ca).map((c) => ({ crt: b64(c) })) };
}

/** Asks each trustd endpoint in turn until one signs the CSR; verifies trustd against `ca`. */
async function requestFromTrustd(endpoints: string[], ca: string, token: string, csr: string, timeoutMs: number): Promise<{ ca: string; crt: string }> {
  if (endpoints.length === 0) throw new Error('no trustd endpoint: the config has no cluster.controlPlane.endpoint');
  let last: Error | undefined;
  for (const endpoint of endpoints) {
    const client = new SecurityServiceClient(endpoint, credentials.createSsl(Buffer.from(ca)));
    try {
      const md = new Metadata();
      md.set('token', token);
      const res = await new Promise<{ ca: Uint8Array; crt: Uint8Array }>((resolve, reject) =>
        client.certificate({ csr: Buffer.from(csr) }, md, { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r))),
      );
      return { ca: Buffer.from(res.ca).toString(), crt: Buffer.from(res.crt).toString() };
    } catch (e) {
      last = e as Error;
    } finally {
      client.close();
    }
  }
  throw last ?? new Error('trustd did not answer');
}
