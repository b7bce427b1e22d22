import { MachineConfigSpec as PB } from '../../api/gen/resource/config/config.js';
import { define } from '../codec.js';
import { ConfigNamespace } from '../namespaces.js';

export const MachineConfigType = 'MachineConfigs.config.talos.dev';
/** the config in effect */
export const ActiveID = 'v1alpha1';
/** the config saved for the next boot */
export const PersistentID = 'persistent';

/**
 * The machine config. Its YAML spec is the whole multi-document text as one string, which is why such resources
 * carry the annotation `talos.dev/yaml-spec: "1"` (talosctl then prints the text as is).
 */
export interface MachineConfigSpec {
  /** the config text (YAML, possibly several documents) */
  text: string;
}

export const YAML_SPEC_ANNOTATION = 'talos.dev/yaml-spec';

export const machineConfigDefinition = define<MachineConfigSpec, PB>(
  { type: MachineConfigType, defaultNamespace: ConfigNamespace, sensitive: true, aliases: ['mc'], toYAML: (s) => s.text },
  PB,
  (s) => ({ yamlMarshalled: Buffer.from(s.text) }),
);
