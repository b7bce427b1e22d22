import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type EtcFileSpecSpec, EtcFileSpecType } from '../../resources/files/etc-file-spec.js';
import { type EtcFileStatusSpec, EtcFileStatusType } from '../../resources/files/etc-file-status.js';
import { FilesNamespace } from '../../resources/namespaces.js';
import { writeFileAtomicSync } from '../../sys/atomic-write.js';

/**
 * `files.EtcFileController`: writes each EtcFileSpec to the node's etc directory (`/system/etc` on metal, bind-mounted
 * over /etc; under the state directory on the process platform), atomically, and records the spec version it wrote
 * as EtcFileStatus.
 */
export class FilesEtcFileController implements Controller {
  readonly name = 'files.EtcFileController';

  constructor(private readonly etcRoot: string) {}

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
          writeFileAtomicSync(join(this.etcRoot, file.metadata.id), file.spec.contents, file.spec.mode || 0o644);
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
