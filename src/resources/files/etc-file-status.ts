import { EtcFileStatusSpec as PB } from '../../api/gen/resource/definitions/files/files.js';
import { define } from '../codec.js';
import { FilesNamespace } from '../namespaces.js';

export const EtcFileStatusType = 'EtcFileStatuses.files.talos.dev';

/** A file under /etc as written: the version of the spec it was written from. */
export interface EtcFileStatusSpec {
  specVersion: string;
}

export const etcFileStatusDefinition = define<EtcFileStatusSpec, PB>({ type: EtcFileStatusType, defaultNamespace: FilesNamespace }, PB, (s) => s);
