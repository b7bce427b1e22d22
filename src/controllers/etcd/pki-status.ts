import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { pkiFiles } from '../../machined/etcd/args.js';
import { relabelKey } from '../../machined/etcd/local.js';
import { fromBase64PEM } from '../../pki/pem.js';
import { EtcdPKIID, type EtcdPKIStatusSpec, EtcdPKIStatusType } from '../../resources/etcd/pki-status.js';
import { EtcdNamespace, SecretsNamespace } from '../../resources/namespaces.js';
import { EtcdRootID, type EtcdRootSpec, EtcdRootType } from '../../resources/secrets/etcd-root.js';
import { EtcdSecretsID, type EtcdSecretsSpec, EtcdSecretsType } from '../../resources/secrets/etcd-secrets.js';

/** Writes a file whole (through a temporary name), readable by its owner only. */
async function writePrivate(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * `etcd.PKIController`: writes etcd's certificates (the etcd CA, the server, peer and `talos` client pairs) into
 * the etcd PKI directory and says so with PKIStatuses `etcd` (`version` = the EtcdSecrets version written); without
 * the CA the files and the status are removed.
 */
export class EtcdPKIController implements Controller {
  readonly name = 'etcd.PKIController';

  constructor(private readonly dir: string) {}

  inputs(): Input[] {
    return [
      { namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID, kind: 'weak' },
      { namespace: SecretsNamespace, type: EtcdSecretsType, id: EtcdSecretsID, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: EtcdPKIStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    const ptr = { namespace: EtcdNamespace, type: EtcdPKIStatusType, id: EtcdPKIID };
    const f = pkiFiles(this.dir);
    for await (const _ of r.events()) {
      const root = await r.getOptional<EtcdRootSpec>({ namespace: SecretsNamespace, type: EtcdRootType, id: EtcdRootID });
      const secrets = await r.getOptional<EtcdSecretsSpec>({ namespace: SecretsNamespace, type: EtcdSecretsType, id: EtcdSecretsID });
      if (!root?.spec.etcdCA) {
        r.startTrackingOutputs();
        await r.cleanupOutputs({ namespace: EtcdNamespace, type: EtcdPKIStatusType });
        await rm(this.dir, { recursive: true, force: true });
        continue;
      }
      if (!secrets) continue;
      const version = String(secrets.metadata.version);
      const current = await r.getOptional<EtcdPKIStatusSpec>(ptr);
      if (current?.spec.ready && current.spec.version === version) continue;
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const s = secrets.spec;
      const pem = (v: string | undefined, what: string) => fromBase64PEM(v ?? '', what);
      await writePrivate(f.caCert, pem(root.spec.etcdCA.crt, 'etcd CA'));
      await writePrivate(f.cert, pem(s.etcd.crt, 'etcd server certificate'));
      await writePrivate(f.key, relabelKey(pem(s.etcd.key, 'etcd server key')));
      await writePrivate(f.peerCert, pem(s.etcdPeer.crt, 'etcd peer certificate'));
      await writePrivate(f.peerKey, relabelKey(pem(s.etcdPeer.key, 'etcd peer key')));
      await writePrivate(f.adminCert, pem(s.etcdAdmin.crt, 'etcd admin certificate'));
      await writePrivate(f.adminKey, relabelKey(pem(s.etcdAdmin.key, 'etcd admin key')));
      // Talos keeps no CA key next to etcd
      await rm(join(this.dir, 'ca.key'), { force: true });
      await r.modify<EtcdPKIStatusSpec>(ptr, () => ({ ready: true, version }), (o) => {
        o.spec = { ready: true, version };
      });
      log.info({ dir: this.dir, version }, 'etcd certificates written');
      r.resetRestartBackoff();
    }
  }
}
