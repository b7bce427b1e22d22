import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MountFlags, native } from '../../platform/native.js';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type EtcFileSpecSpec, EtcFileSpecType } from '../../resources/files/etc-file-spec.js';
import { type EtcFileStatusSpec, EtcFileStatusType } from '../../resources/files/etc-file-status.js';
import { FilesNamespace } from '../../resources/namespaces.js';
import { writeFileAtomicSync } from '../../sys/atomic-write.js';

/**
 * `files.EtcFileController`: writes each EtcFileSpec to the node's etc directory (`/system/etc` on metal, each file
 * bind-mounted over its name in /etc; under the state directory on the process platform, atomically), and records
 * the spec version it wrote as EtcFileStatus.
 */
export class FilesEtcFileController implements Controller {
  readonly name = 'files.EtcFileController';

  private readonly bound = new Set<string>();

  /**
   * @param etcRoot where the files are written
   * @param bindTarget metal: each file is bind-mounted over the same name here (`/etc`) and then updated in place, so
   *   the mount keeps showing it
   */
  constructor(
    private readonly etcRoot: string,
    private readonly bindTarget?: string,
  ) {}

  inputs(): Input[] {
    return [{ namespace: FilesNamespace, type: EtcFileSpecType, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: EtcFileStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      for (const file of await r.list<EtcFileSpecSpec>({ namespace: FilesNamespace, type: EtcFileSpecType })) {
        const version = String(file.metadata.version);
        const ptr = { namespace: FilesNamespace, type: EtcFileStatusType, id: file.metadata.id };
        const cur = await r.getOptional<EtcFileStatusSpec>(ptr);
        if (cur?.spec.specVersion !== version) {
          const path = join(this.etcRoot, file.metadata.id);
          // rebuilt at every boot: atomic for readers, no need to reach the disk
          if (!this.bindTarget) writeFileAtomicSync(path, file.spec.contents, file.spec.mode || 0o644, { durable: false });
          else {
            mkdirSync(this.etcRoot, { recursive: true, mode: 0o755 });
            writeFileSync(path, file.spec.contents, { mode: file.spec.mode || 0o644 });
            if (!this.bound.has(file.metadata.id)) {
              native().mount(path, join(this.bindTarget, file.metadata.id), null, MountFlags.BIND, null);
              this.bound.add(file.metadata.id);
            }
          }
          log.debug({ file: file.metadata.id, version }, 'wrote /etc file');
        }
        await r.modify<EtcFileStatusSpec>(ptr, () => ({ specVersion: version }), (o) => {
          o.spec = { specVersion: version };
        });
      }
      await r.cleanupOutputs({ namespace: FilesNamespace, type: EtcFileStatusType });
    }
  }
}
