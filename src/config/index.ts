/**
 * Machine configuration, as Talos v1.13 reads and writes it (configs from Talos v1.6 load too).
 *
 * - Load: `loadConfig(text)` parses a YAML stream of documents (the legacy v1alpha1 document and the 44 other kinds
 *   of v1.13), decodes strictly (unknown keys and wrong types are ConfigErrors whose `issues` name the document, the
 *   path and the line) and rejects duplicate or conflicting documents. `config.toString()` gives back the text as
 *   written; `config.encode({ docs, examples })` the canonical form talosctl writes.
 * - Validate: `validateConfig(config, 'metal' | 'cloud' | 'container', { strict, installed })` returns errors and
 *   warnings apart; `assertValid` throws one ConfigError listing every error.
 * - Patch: `loadPatches(['@file', 'inline'])` then `applyPatches(config, patches)`: strategic merge patches (with
 *   `$patch: delete`) and RFC 6902 JSON patches.
 * - Generate: `generateSecrets()`, `generateBundle({ clusterName, endpoint, ... }, patches)` for controlplane and worker
 *   configs and the talosconfig, for version contracts up to v1.13 (`parseContract('v1.8')`).
 * - Schema: `toJSONSchema(schemaOfKind(kind))` is the JSON schema of a document kind.
 */
export { ConfigDocument, MachineConfig, schemaOfKind, V1ALPHA1, type ClusterSection, type MachineSection, type V1Alpha1Config } from './document.js';
export { encodeValue, type EncodeOptions } from './encode.js';
export { ConfigError, type ConfigErrorCode, type ConfigIssue, formatIssue } from './errors.js';
export { DEFAULT_INSTALL_DISK, DEFAULT_INSTALLER_IMAGE, DEFAULT_KUBERNETES_VERSION, generateBundle, generateConfig, generateTalosconfig, resolveInput, type ConfigBundle, type GenerateInput } from './generate/config.js';
export { parseContract, type VersionContract } from './generate/contract.js';
export { generateSecrets, parseSecrets, secretsFromConfig, secretsFromKubernetesPKI, serializeSecrets, validateSecrets, type SecretsBundle } from './generate/secrets.js';
export { loadConfig, loadEntries, type LoadOptions } from './loader.js';
export { timeSyncSettings, type TimeSyncSettings } from './time-sync.js';
export { DEFAULT_ROUTE_METRIC, linkSettings, type LinkRouteSettings, type LinkSettings } from './network-links.js';
export { applyPatches } from './patch/apply.js';
export { loadPatch, loadPatches, type Patch } from './patch/load.js';
export { kinds, type KindSpec } from './schema/kinds.js';
export { toJSONSchema } from './schema/json-schema.js';
export { assertValid, modes, parseMode, validateConfig, type ModeName, type ValidateOptions, type ValidationResult } from './validate.js';
export type { RuntimeMode } from './validate-v1alpha1.js';
