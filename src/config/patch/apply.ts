/** Applying patches in order to a machine config, as Talos's configpatcher.Apply does. */
import { parse as parseYAML, stringify as stringifyYAML } from 'yaml';
import type { MachineConfig } from '../document.js';
import { ConfigError } from '../errors.js';
import { loadConfig } from '../loader.js';
import { applyOperations } from './json6902.js';
import type { Patch } from './load.js';
import { applyStrategic } from './strategic.js';

/** Applies patches in order; returns a new config. JSON patches need a single-document config. */
export function applyPatches(cfg: MachineConfig, patches: Patch[]): MachineConfig {
  let current = cfg;
  for (const p of patches) {
    if (p.type === 'strategic') {
      current = applyStrategic(current, p);
      continue;
    }
    if (current.documents.length !== 1) throw new ConfigError('BRONZE_CONFIG_PATCH', 'JSON6902 patches are not supported for multi-document machine configuration');
    const json = parseYAML(current.encode());
    const patched = applyOperations(json, p.operations);
    current = loadConfig(stringifyYAML(patched, { indent: 4, lineWidth: 0 }));
    for (const d of current.documents) d.source = undefined;
  }
  return current;
}
