import { loadConfig } from '../../config/loader.js';
import type { MachineConfig } from '../../config/document.js';
import type { Resource } from '../../cosi/resource.js';
import type { MachineConfigSpec } from '../../resources/config/machine-config.js';

const cache = new WeakMap<object, MachineConfig>();

/**
 * The parsed machine config of a MachineConfig resource. Parsed once per stored version: controllers reading the same
 * resource share the result (configs are validated before they are stored, so this does not fail in practice).
 */
export function parsedConfig(r: Resource<MachineConfigSpec>): MachineConfig {
  const key = r.spec as object;
  let c = cache.get(key);
  if (!c) {
    c = loadConfig(r.spec.text);
    cache.set(key, c);
  }
  return c;
}
