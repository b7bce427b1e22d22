import { createHash, timingSafeEqual } from 'node:crypto';
import { type handleUnaryCall, Server, type ServerUnaryCall, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type CertificateRequest as CertificateRPCRequest, type CertificateResponse, SecurityServiceService } from '../api/gen/security/security.js';
import { ReloadableServerCredentials, type ServerTLS } from '../apid/credentials.js';
import { type CertificateRequest, readCSR } from '../pki/csr.js';
import { extKeyUsageOIDs, subjectName } from '../pki/issue.js';
import { decodePEM, PEMLabel } from '../pki/pem.js';
import { anyHost } from '../sys/listen.js';

/** What trustd needs from the node's secrets, read per call so rotations apply at once. */
export interface TrustdSecrets {
  /** the machine token joining nodes present (`machine.token`) */
  token(): string;
  /** PEM of every accepted CA, returned to the caller so it can verify the API */
  acceptedCAs(): string;
  /** signs a server certificate for the CSR's key, subject and SANs with the OS CA; returns PEM */
  issueServerCertificate(csr: CertificateRequest): Promise<string>;
}

export interface TrustdOptions {
  /** `host:port`, :50001 on a node */
  listen: string;
  tls: ServerTLS;
  secrets: TrustdSecrets;
  logger: Logger;
}

class RequestError extends Error {
  constructor(
    readonly grpcCode: status,
    message: string,
  ) {
    super(message);
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** The token check: compared by hash in constant time. */
export function checkToken(presented: string | undefined, expected: string): void {
  if (presented === undefined || presented === '') throw new RequestError(status.UNAUTHENTICATED, 'missing token');
  if (!timingSafeEqual(sha256(presented), sha256(expected))) throw new RequestError(status.UNAUTHENTICATED, 'invalid token');
}

/**
 * Parses and checks a CSR: its signature must verify, and it may ask only for a server certificate. A request for
 * client authentication, or a subject Organization (which would carry API roles), is refused: a certificate trustd
 * signs must never work as an API client credential.
 */
export async function checkCSR(pem: Uint8Array): Promise<CertificateRequest> {
  let block: Buffer | undefined;
  try {
    block = decodePEM(Buffer.from(pem).toString('utf8')).find((b) => b.label === PEMLabel.certificateRequest)?.der;
  } catch {
    // a body that is not base64
  }
  if (!block) throw new RequestError(status.INVALID_ARGUMENT, 'failed to decode CSR');
  let csr: CertificateRequest;
  try {
    csr = readCSR(block);
  } catch (e) {
    throw new RequestError(status.INVALID_ARGUMENT, `failed to parse CSR: ${(e as Error).message}`);
  }
  if (!csr.signatureValid) throw new RequestError(status.INVALID_ARGUMENT, 'CSR signature does not verify');
  if ((csr.subject.organization ?? []).length > 0) {
    throw new RequestError(status.PERMISSION_DENIED, 'CSR carries a subject Organization: trustd signs server certificates only');
  }
  if (csr.extKeyUsage.includes(extKeyUsageOIDs.clientAuth)) {
    throw new RequestError(status.PERMISSION_DENIED, 'CSR asks for client authentication: trustd signs server certificates only');
  }
  return csr;
}

/**
 * trustd: the control plane service on :50001 that signs server certificates for nodes that join (their apid
 * certificate). TLS without client certificates; callers authenticate with the machine token.
 */
export class Trustd {
  private server: Server | undefined;
  private readonly creds: ReloadableServerCredentials;
  port = 0;

  constructor(private readonly opts: TrustdOptions) {
    this.creds = new ReloadableServerCredentials(opts.tls, false);
  }

  async start(): Promise<number> {
    const server = new Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
    const certificate: handleUnaryCall<CertificateRPCRequest, CertificateResponse> = (call, cb) => {
      this.certificate(call).then(
        (res) => cb(null, res),
        (e: unknown) => {
          const err = e instanceof RequestError ? { code: e.grpcCode, details: e.message } : { code: status.INTERNAL, details: (e as Error).message };
          this.opts.logger.warn({ peer: call.getPeer(), err: err.details }, 'certificate request refused');
          cb(err);
        },
      );
    };
    server.addService(SecurityServiceService, { certificate });
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(anyHost(this.opts.listen), this.creds, (e, p) => (e ? reject(e) : resolve(p))));
    this.server = server;
    this.opts.logger.info({ listen: this.opts.listen, port: this.port }, 'trustd serving');
    return this.port;
  }

  updateTLS(tls: ServerTLS): void {
    this.creds.update(tls);
  }

  private async certificate(call: ServerUnaryCall<CertificateRPCRequest, CertificateResponse>): Promise<CertificateResponse> {
    checkToken(call.metadata.get('token').map(String)[0], this.opts.secrets.token());
    const csr = await checkCSR(call.request.csr);
    const crt = await this.opts.secrets.issueServerCertificate(csr);
    this.opts.logger.info({ peer: call.getPeer(), subject: subjectName(csr.subject) }, 'signed a server certificate');
    return { ca: Buffer.from(this.opts.secrets.acceptedCAs()), crt: Buffer.from(crt) };
  }

  async stop(graceMs = 5000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
