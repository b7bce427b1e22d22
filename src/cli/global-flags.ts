import type { FlagSpec } from './flags.js';

/** Flags every command accepts, as talosctl's persistent flags. */
export const globalFlags: FlagSpec[] = [
  { name: 'talosconfig', kind: 'string', description: 'the path to the Talos configuration file (default: $TALOSCONFIG or ~/.talos/config)' },
  { name: 'context', kind: 'string', description: 'context to be used in command' },
  { name: 'endpoints', short: 'e', kind: 'list', description: 'override default endpoints in Talos configuration' },
  { name: 'nodes', short: 'n', kind: 'list', description: 'target the specified nodes' },
  { name: 'cluster', kind: 'string', description: 'cluster to connect to if a proxy endpoint is used' },
  { name: 'help', short: 'h', kind: 'bool', description: 'help for this command' },
];
