import { EtcFileSpecSpec as PB } from '../../api/gen/resource/definitions/files/files.js';
import { define } from '../codec.js';
import { FilesNamespace } from '../namespaces.js';

export const EtcFileSpecType = 'EtcFileSpecs.files.talos.dev';

/** A file under /etc the node writes (ID = its name: `hosts`, `resolv.conf`). */
export interface EtcFileSpecSpec {
  contents: string;
  mode: number;
  selinux_label: string;
}

export const etcFileSpecDefinition = define<EtcFileSpecSpec, PB>({ type: EtcFileSpecType, defaultNamespace: FilesNamespace }, PB, (s) => ({
  contents: Buffer.from(s.contents),
  mode: s.mode,
  selinuxLabel: s.selinux_label,
}));
