import { loadConfig } from '../../config/loader.js';
import type { MachineConfig } from '../../config/document.js';
import type { Resource } from '../../cosi/resource.js';
import type { MachineConfigSpec } from '../../resources/config/machine-config.js';

/** Parsed configs by their text: the active one, the one before it, and a staged or tried one fit. */
const cache = new Map<string, MachineConfig>();
const CACHE_SIZE = 4;

/**
 * A machine config parsed once per text: every controller reading the MachineConfig resource (each gets its own copy
 * of the spec from the state) shares one parse. Configs are validated before they are stored, so this does not fail
 * in practice. Callers must not modify the result.
 */
export function parsedConfigText(text: string): MachineConfig {
  let c = cache.get(text);
  if (c) {
    // most recently used last
    cache.delete(text);
  } else {
    c = loadConfig(text);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(text, c);
  return c;
}

/** The parsed machine config of a MachineConfig resource (see parsedConfigText). */
export function parsedConfig(r: Resource<MachineConfigSpec>): MachineConfig {
  return parsedConfigText(r.spec.text);
}
