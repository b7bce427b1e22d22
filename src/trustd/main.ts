import type { Logger } from 'pino';
import { StateClient } from '../client/state-client.js';
import { RemoteState } from '../cosi/api/client.js';
import type { Pointer, Resource } from '../cosi/resource.js';
import { State } from '../cosi/state.js';
import { type CertificateRequest, signCSR } from '../pki/csr.js';
import { loadCA } from '../pki/issue.js';
import { SecretsNamespace } from '../resources/namespaces.js';
import { OSRootID, type OSRootSpec, OSRootType } from '../resources/secrets/os-root.js';
import { TrustdCertificatesID, type TrustdCertificatesSpec, TrustdCertificatesType } from '../resources/secrets/trustd-certificates.js';
import { Trustd } from './server.js';

export interface TrustdMainOptions {
  /** machined's socket serving trustd's read-only view of the state */
  stateSocket: string;
  /** `host:port` (`:50001` on a node) */
  listen: string;
  logger: Logger;
  signal: AbortSignal;
  onServing?(port: number): void;
}

const watched = {
  certs: { namespace: SecretsNamespace, type: TrustdCertificatesType, id: TrustdCertificatesID },
  root: { namespace: SecretsNamespace, type: OSRootType, id: OSRootID },
} satisfies Record<string, Pointer>;

const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/**
 * trustd as a process: its certificate (TrustdCertificates) and the OS CA and token (OSRootSecrets) come from
 * machined's state over its own socket; it serves once both exist and swaps its certificate when it rotates.
 */
export async function runTrustd(o: TrustdMainOptions): Promise<void> {
  const client = StateClient.forSocket(o.stateSocket);
  const state = new State(new RemoteState(client.cosi, { logger: o.logger }));
  const current: { certs?: TrustdCertificatesSpec; root?: OSRootSpec } = {};
  let trustd: Trustd | undefined;
  let changing = Promise.resolve();

  const reconcile = async () => {
    const { certs, root } = current;
    if (!certs?.server || !root?.issuingCA?.key) return;
    const tls = { cert: pem(certs.server.crt), key: pem(certs.server.key) };
    if (trustd) {
      trustd.updateTLS(tls);
      return;
    }
    trustd = new Trustd({
      listen: o.listen,
      tls,
      logger: o.logger,
      secrets: {
        token: () => current.root?.token ?? '',
        acceptedCAs: () => (current.root?.acceptedCAs ?? []).map((c) => pem(c.crt)).join(''),
        issueServerCertificate: async (csr: CertificateRequest) => {
          const r = current.root!;
          const ca = loadCA(r.issuingCA!.crt, r.issuingCA!.key, 'OS CA');
          const now = new Date();
          const crt = await signCSR(ca, csr, {
            notBefore: now,
            notAfter: new Date(now.getTime() + 24 * 3_600_000),
            keyUsage: ['digitalSignature'],
            extKeyUsage: ['serverAuth'],
          });
          return crt.pem;
        },
      },
    });
    o.onServing?.(await trustd.start());
  };

  const follow = async (key: keyof typeof watched) => {
    for await (const ev of await state.watch(watched[key], {}, o.signal)) {
      if (ev.type === 'errored') throw new Error(`watching ${watched[key].type}: ${ev.error}`);
      (current as Record<string, unknown>)[key] = ev.type === 'destroyed' ? undefined : (ev.resource as Resource<never> | undefined)?.spec;
      changing = changing.then(reconcile).catch((e: unknown) => o.logger.error({ err: (e as Error).message }, 'trustd reconfiguration failed'));
    }
  };

  try {
    await Promise.all(
      (Object.keys(watched) as (keyof typeof watched)[]).map((k) =>
        follow(k).catch((e: unknown) => {
          if (!o.signal.aborted) throw e;
        }),
      ),
    );
  } finally {
    await changing;
    await trustd?.stop(2000);
    client.close();
  }
}
