import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { issueKeyPair, loadCA, toBase64Pair } from '../../pki/index.js';
import { isControlPlane, MachineTypeID, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { ConfigNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { CertSANAPIID, type CertSANSpec, CertSANType } from '../../resources/secrets/cert-sans.js';
import { OSRootID, type OSRootSpec, OSRootType } from '../../resources/secrets/os-root.js';
import { TrustdCertificatesID, type TrustdCertificatesSpec, TrustdCertificatesType } from '../../resources/secrets/trustd-certificates.js';
import { API_CERT_VALIDITY_MS, type APICertificatesOptions, needsRenewal, renewalTime, renewalTimer } from './api-certificates.js';

/**
 * trustd's server certificate on a control plane: signed by the OS CA for the same names as apid's, a day long,
 * renewed at half-life and when the names change; gone when the machine is not a control plane or lacks the CA key.
 */
export class TrustdCertificatesController implements Controller {
  readonly name = 'secrets.TrustdController';

  constructor(private readonly opts: APICertificatesOptions = {}) {}

  inputs(): Input[] {
    return [
      { namespace: SecretsNamespace, type: OSRootType, id: OSRootID, kind: 'weak' },
      { namespace: SecretsNamespace, type: CertSANType, id: CertSANAPIID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: TrustdCertificatesType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    const now = this.opts.now ?? (() => new Date());
    const timer = renewalTimer(this.opts.schedule);
    signal.addEventListener('abort', () => timer.cancel(), { once: true });
    const ptr = { namespace: SecretsNamespace, type: TrustdCertificatesType, id: TrustdCertificatesID };
    for await (const _ of r.events()) {
      const root = await r.getOptional<OSRootSpec>({ namespace: SecretsNamespace, type: OSRootType, id: OSRootID });
      const sans = await r.getOptional<CertSANSpec>({ namespace: SecretsNamespace, type: CertSANType, id: CertSANAPIID });
      const mt = await r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID });
      if (!root?.spec.issuingCA?.key || !sans || !mt || !isControlPlane(mt.spec.type)) {
        // not (or no longer) a control plane with the OS CA key: no trustd certificate
        r.startTrackingOutputs();
        await r.cleanupOutputs({ namespace: SecretsNamespace, type: TrustdCertificatesType });
        continue;
      }
      const current = await r.getOptional<TrustdCertificatesSpec>(ptr);
      const at = now();
      if (needsRenewal(current?.spec, sans.spec, at)) {
        const ca = loadCA(root.spec.issuingCA.crt, root.spec.issuingCA.key, 'OS CA');
        const server = await issueKeyPair(ca, {
          subject: { commonName: sans.spec.fqdn || 'talos' },
          notBefore: at,
          notAfter: new Date(at.getTime() + API_CERT_VALIDITY_MS),
          keyUsage: ['digitalSignature'],
          extKeyUsage: ['serverAuth'],
          ipAddresses: sans.spec.ips,
          dnsNames: sans.spec.dnsNames,
        });
        await r.modify<TrustdCertificatesSpec>(ptr, () => ({ acceptedCAs: [] }), (o) => {
          o.spec = { server: toBase64Pair(server), acceptedCAs: root.spec.acceptedCAs };
        });
        log.info({ sans: sans.spec }, 'issued the trustd certificate');
      }
      const issued = await r.getOptional<TrustdCertificatesSpec>(ptr);
      if (issued?.spec.server) timer.set(renewalTime(issued.spec.server.crt) - now().getTime(), () => r.queueReconcile());
    }
  }
}
