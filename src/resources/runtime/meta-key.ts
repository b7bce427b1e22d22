import { MetaKeySpec as PB } from '../../api/gen/resource/definitions/runtime/runtime.js';
import { define } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const MetaKeyType = 'MetaKeys.runtime.talos.dev';

/** A META tag and its value (ID `0x0a`), mirrored from the META store. */
export interface MetaKeySpec {
  value: string;
}

export const metaKeyDefinition = define<MetaKeySpec, PB>(
  { type: MetaKeyType, defaultNamespace: RuntimeNamespace, printColumns: [{ name: 'Value', jsonPath: '{.value}' }] },
  PB,
  (s) => s,
);
