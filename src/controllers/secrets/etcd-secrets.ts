import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type CertificateOptions, issueKeyPair, loadCA, toBase64Pair } from '../../pki/cert.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { NetworkNamespace, RuntimeNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { NodeAddressAccumulativeID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';
import { EtcdRootID, type EtcdRootSpec, EtcdRootType } from '../../resources/secrets/etcd-root.js';
import { EtcdSecretsID, type EtcdSecretsSpec, EtcdSecretsType } from '../../resources/secrets/etcd-secrets.js';
import { TimeStatusID, type TimeStatusSpec, TimeStatusType } from '../../resources/time/time-status.js';

const TEN_YEARS_MS = 87_600 * 3_600_000;

/**
 * `secrets.EtcdController`: once the time is synced, etcd's certificates from the etcd CA, for the node's hostname and
 * addresses: the server certificate (also for localhost, 127.0.0.1 and ::1), the peer certificate, and client
 * certificates `talos` and `kube-apiserver`; issued again when the names or addresses change, gone without the CA.
 */
export class EtcdSecretsController implements Controller {
  readonly name = 'secrets.EtcdController';
  private issuedFor = '';

  /**
   * `extraPeerIPs`: addresses the peer certificate also holds. Nodes of the process platform share the host, and
   * etcd's connections to its peers leave from 127.0.0.1 whatever address the node has: peers check the source
   * address against the certificate, so it must be there.
   */
  constructor(private readonly opts: { extraPeerIPs?: string[] } = {}) {}

  inputs(): Input[] {
    return [
      { namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID, kind: 'weak' },
      { namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID, kind: 'weak' },
      { namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID, kind: 'weak' },
      { namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressAccumulativeID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: EtcdSecretsType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const ptr = { namespace: SecretsNamespace, type: EtcdSecretsType, id: EtcdSecretsID };
    for await (const _ of r.events()) {
      const root = await r.getOptional<EtcdRootSpec>({ namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID });
      if (!root?.spec.etcdCA) {
        r.startTrackingOutputs();
        await r.cleanupOutputs({ namespace: SecretsNamespace, type: EtcdSecretsType });
        this.issuedFor = '';
        continue;
      }
      const time = await r.getOptional<TimeStatusSpec>({ namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID });
      const hostname = await r.getOptional<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID });
      const addrs = await r.getOptional<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id: NodeAddressAccumulativeID });
      if (!time?.spec.synced || !hostname || !addrs) continue;
      const ips = addrs.spec.addresses.map((a) => a.split('/')[0]!);
      const names = hostname.spec.domainname ? [hostname.spec.hostname, `${hostname.spec.hostname}.${hostname.spec.domainname}`] : [hostname.spec.hostname];
      const peerIPs = [...ips, ...(this.opts.extraPeerIPs ?? []).filter((a) => !ips.includes(a))];
      const key = JSON.stringify([root.spec.etcdCA.crt, names, peerIPs]);
      if (key === this.issuedFor && (await r.getOptional(ptr))) continue;
      const ca = loadCA(fromBase64PEM(root.spec.etcdCA.crt, 'etcd CA'), fromBase64PEM(root.spec.etcdCA.key, 'etcd CA key'), 'etcd CA');
      const base = { keyUsage: ['digitalSignature', 'keyEncipherment'], notAfter: new Date(Date.now() + TEN_YEARS_MS) } satisfies CertificateOptions;
      const issue = async (opts: CertificateOptions) => toBase64Pair(await issueKeyPair(ca, { ...base, ...opts }));
      const spec: EtcdSecretsSpec = {
        etcd: await issue({ subject: { commonName: hostname.spec.hostname }, dnsNames: [...names, 'localhost'], ipAddresses: [...ips, '127.0.0.1', '::1'], extKeyUsage: ['serverAuth', 'clientAuth'] }),
        etcdPeer: await issue({ subject: { commonName: hostname.spec.hostname }, dnsNames: names, ipAddresses: peerIPs, extKeyUsage: ['serverAuth', 'clientAuth'] }),
        etcdAdmin: await issue({ subject: { commonName: 'talos' }, extKeyUsage: ['clientAuth'] }),
        etcdAPIServer: await issue({ subject: { commonName: 'kube-apiserver' }, extKeyUsage: ['clientAuth'] }),
      };
      await r.modify<EtcdSecretsSpec>(ptr, () => spec, (o) => {
        o.spec = spec;
      });
      this.issuedFor = key;
      r.resetRestartBackoff();
    }
  }
}
