import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { boundedCache, issueKeyPair, loadCA, toBase64Pair } from '../../pki/index.js';
import { isControlPlane, MachineTypeID, type MachineTypeSpec, MachineTypeType } from '../../resources/config/machine-type.js';
import { ConfigNamespace, RuntimeNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { MaintenanceID, MaintenanceServiceRequestType } from '../../resources/runtime/maintenance.js';
import { ApiCertificatesID, type ApiCertificatesSpec, ApiCertificatesType } from '../../resources/secrets/api-certificates.js';
import { CertSANAPIID, CertSANMaintenanceID, type CertSANSpec, CertSANType } from '../../resources/secrets/cert-sans.js';
import { MaintenanceRootID, type MaintenanceRootSpec, MaintenanceRootType } from '../../resources/secrets/maintenance-root.js';
import { ActiveID, MachineConfigType, type MachineConfigSpec } from '../../resources/config/machine-config.js';
import { type WorkerAPICertificatesOptions, workerCertificates } from './api-certificates-worker.js';
import { OSRootID, type OSRootSpec, OSRootType } from '../../resources/secrets/os-root.js';

/** apid's certificates live a day and are renewed when half of that has passed, or at once when the SANs change. */
export const API_CERT_VALIDITY_MS = 24 * 3_600_000;
const RENEW_AFTER = 0.5;

export interface APICertificatesOptions extends WorkerAPICertificatesOptions {
  now?: () => Date;
  /** schedules a wake-up for the next renewal; returns a cancel function (tests inject a clock) */
  schedule?: (ms: number, fn: () => void) => () => void;
}

export interface CertificateFacts {
  readonly ips: readonly string[];
  readonly dns: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * The facts of the last certificates asked about. The certificate controllers look at their current certificates at
 * every change of their inputs (a new config, new addresses), several times a pass; parsing one takes about half a
 * millisecond, and they change only when reissued.
 */
const knownFacts = boundedCache<CertificateFacts>(16);

/** What a certificate in Talos's base64 form says about itself: its SANs and when it was issued and expires. */
export function certificateFacts(b64crt: string): CertificateFacts {
  return knownFacts(b64crt, () => readFacts(b64crt));
}

function readFacts(b64crt: string): CertificateFacts {
  const cert = new X509Certificate(Buffer.from(b64crt, 'base64'));
  const alt = cert.subjectAltName ?? '';
  const ips: string[] = [];
  const dns: string[] = [];
  for (const part of alt.split(/,\s*/)) {
    if (part.startsWith('IP Address:')) ips.push(normalizeIP(part.slice('IP Address:'.length)));
    else if (part.startsWith('DNS:')) dns.push(part.slice(4));
  }
  return Object.freeze({ ips: Object.freeze(ips.sort()), dns: Object.freeze(dns.sort()), notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) });
}

/** OpenSSL prints IPv6 SANs in full; compare them in the short form. */
function normalizeIP(ip: string): string {
  if (!ip.includes(':')) return ip;
  const groups = ip.split(':').map((g) => g.replace(/^0+(?=.)/, '').toLowerCase());
  const text = groups.join(':');
  const runs = [...text.matchAll(/(^|:)(0(:0)+)(:|$)/g)].sort((a, b) => b[2]!.length - a[2]!.length);
  if (!runs[0]) return text;
  const r = runs[0];
  return `${text.slice(0, r.index)}::${text.slice(r.index! + r[0].length)}`.replace(/^:::/, '::');
}

/** When a certificate should be replaced: half-way through its life. */
export function renewalTime(b64crt: string): number {
  const f = certificateFacts(b64crt);
  return f.notBefore.getTime() + (f.notAfter.getTime() - f.notBefore.getTime()) * RENEW_AFTER;
}

/** Whether a server certificate still serves: right SANs and not past the renewal point. */
export function needsRenewal(current: { server?: { crt: string } } | undefined, sans: CertSANSpec, now: Date): boolean {
  if (!current?.server) return true;
  const f = certificateFacts(current.server.crt);
  if (f.ips.join() !== [...sans.ips].sort().join() || f.dns.join() !== [...sans.dnsNames].sort().join()) return true;
  return now.getTime() >= renewalTime(current.server.crt);
}

/** A timer for the next renewal pass, replaced by each call. */
export function renewalTimer(schedule: NonNullable<APICertificatesOptions['schedule']> | undefined) {
  let cancel: (() => void) | undefined;
  const sched =
    schedule ??
    ((ms: number, fn: () => void) => {
      const t = setTimeout(fn, Math.min(ms, 2 ** 31 - 1));
      t.unref();
      return () => clearTimeout(t);
    });
  return {
    set(ms: number, fn: () => void) {
      cancel?.();
      cancel = sched(Math.max(0, ms), fn);
    },
    cancel() {
      cancel?.();
    },
  };
}

/**
 * apid's certificates on a control plane: a server certificate signed by the OS CA for the node's names and
 * addresses, and a client certificate with the `os:impersonator` role for calling peer apids, both renewed before
 * they expire and whenever the SANs change. Workers have theirs signed by trustd on a control plane.
 */
export class APICertificatesController implements Controller {
  readonly name = 'secrets.APIController';
  constructor(private readonly opts: APICertificatesOptions = {}) {}

  inputs(): Input[] {
    return [
      { namespace: SecretsNamespace, type: OSRootType, id: OSRootID, kind: 'weak' },
      { namespace: SecretsNamespace, type: CertSANType, id: CertSANAPIID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID, kind: 'weak' },
      { namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID, kind: 'weak' },
      { namespace: SecretsNamespace, type: MaintenanceRootType, id: MaintenanceRootID, kind: 'weak' },
      { namespace: SecretsNamespace, type: CertSANType, id: CertSANMaintenanceID, kind: 'weak' },
      { namespace: RuntimeNamespace, type: MaintenanceServiceRequestType, id: MaintenanceID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: ApiCertificatesType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    const now = this.opts.now ?? (() => new Date());
    const timer = renewalTimer(this.opts.schedule);
    signal.addEventListener('abort', () => timer.cancel(), { once: true });
    const ptr = { namespace: SecretsNamespace, type: ApiCertificatesType, id: ApiCertificatesID };
    for await (const _ of r.events()) {
      const [root, sans, mt] = await Promise.all([
        r.getOptional<OSRootSpec>({ namespace: SecretsNamespace, type: OSRootType, id: OSRootID }),
        r.getOptional<CertSANSpec>({ namespace: SecretsNamespace, type: CertSANType, id: CertSANAPIID }),
        r.getOptional<MachineTypeSpec>({ namespace: ConfigNamespace, type: MachineTypeType, id: MachineTypeID }),
      ]);
      if (!mt) continue;
      const current = await r.getOptional<ApiCertificatesSpec>(ptr);
      const at = now();
      if (mt.spec.type === 'unknown') {
        // no config (any more): the certificates made for a config go at once
        if (current && !current.spec.skipVerifyingClientCert) {
          await r.destroy(ptr);
          log.info('the machine config is gone: apid certificates removed');
        }
        // the maintenance API's certificate, from the throwaway CA, with no client verification, made only while the
        // maintenance API is asked for (a config coming from talos.config= needs none)
        const [mroot, msans, request] = await Promise.all([
          r.getOptional<MaintenanceRootSpec>({ namespace: SecretsNamespace, type: MaintenanceRootType, id: MaintenanceRootID }),
          r.getOptional<CertSANSpec>({ namespace: SecretsNamespace, type: CertSANType, id: CertSANMaintenanceID }),
          r.getOptional({ namespace: RuntimeNamespace, type: MaintenanceServiceRequestType, id: MaintenanceID }),
        ]);
        if (!mroot?.spec.ca || !msans || !request) continue;
        if (!current?.spec.skipVerifyingClientCert || needsRenewal(current.spec, msans.spec, at)) {
          const ca = loadCA(mroot.spec.ca.crt, mroot.spec.ca.key, 'maintenance CA');
          const server = await issueKeyPair(ca, {
            subject: { commonName: msans.spec.fqdn },
            notBefore: at,
            notAfter: new Date(at.getTime() + API_CERT_VALIDITY_MS),
            keyUsage: ['digitalSignature'],
            extKeyUsage: ['serverAuth'],
            ipAddresses: msans.spec.ips,
            dnsNames: msans.spec.dnsNames,
          });
          await r.modify<ApiCertificatesSpec>(ptr, () => ({ acceptedCAs: [] }), (o) => {
            o.spec = { server: toBase64Pair(server), acceptedCAs: [], skipVerifyingClientCert: true };
          });
          log.info({ sans: msans.spec }, 'issued the maintenance API certificate');
        }
      } else if (!root || !sans) {
        continue;
      } else if (mt.spec.type === 'worker') {
        if (current?.spec.skipVerifyingClientCert || needsRenewal(current?.spec, sans.spec, at)) {
          const cfg = await r.getOptional<MachineConfigSpec>({ namespace: ConfigNamespace, type: MachineConfigType, id: ActiveID });
          try {
            const spec = await workerCertificates(cfg?.spec, root.spec, sans.spec, this.opts);
            await r.modify<ApiCertificatesSpec>(ptr, () => ({ acceptedCAs: [] }), (o) => {
              o.spec = spec;
            });
            log.info('got the apid certificate from trustd');
          } catch (e) {
            log.warn({ err: (e as Error).message }, 'trustd could not sign the apid certificate, retrying');
            timer.set(this.opts.retryMs ?? 5000, () => r.queueReconcile());
            continue;
          }
        }
      } else if (!root.spec.issuingCA?.key || !isControlPlane(mt.spec.type)) {
        continue;
      } else if (current?.spec.skipVerifyingClientCert || needsRenewal(current?.spec, sans.spec, at)) {
        const ca = loadCA(root.spec.issuingCA.crt, root.spec.issuingCA.key, 'OS CA');
        const notAfter = new Date(at.getTime() + API_CERT_VALIDITY_MS);
        const server = await issueKeyPair(ca, {
          subject: { commonName: sans.spec.fqdn || 'talos' },
          notBefore: at,
          notAfter,
          keyUsage: ['digitalSignature'],
          extKeyUsage: ['serverAuth'],
          ipAddresses: sans.spec.ips,
          dnsNames: sans.spec.dnsNames,
        });
        const client = await issueKeyPair(ca, {
          subject: { commonName: sans.spec.fqdn || 'talos', organization: ['os:impersonator'] },
          notBefore: at,
          notAfter,
          keyUsage: ['digitalSignature'],
          extKeyUsage: ['clientAuth'],
        });
        await r.modify<ApiCertificatesSpec>(ptr, () => ({ acceptedCAs: [] }), (o) => {
          o.spec = { server: toBase64Pair(server), client: toBase64Pair(client), acceptedCAs: root.spec.acceptedCAs };
        });
        log.info({ sans: sans.spec, notAfter }, 'issued apid certificates');
      } else if (current && JSON.stringify(current.spec.acceptedCAs) !== JSON.stringify(root.spec.acceptedCAs)) {
        await r.modify<ApiCertificatesSpec>(ptr, () => ({ acceptedCAs: [] }), (o) => {
          o.spec.acceptedCAs = root.spec.acceptedCAs;
        });
      }
      // wake up again when the certificate reaches its renewal point
      const issued = await r.getOptional<ApiCertificatesSpec>(ptr);
      if (issued?.spec.server) timer.set(renewalTime(issued.spec.server.crt) - now().getTime(), () => r.queueReconcile());
      r.resetRestartBackoff();
    }
  }
}
