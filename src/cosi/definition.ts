import { StateError } from './errors.js';

export interface PrintColumn {
  name: string;
  /** a JSONPath over the YAML form of the spec, e.g. `{.hostname}` */
  jsonPath: string;
}

/** How a resource type is described to the API and to `get`. */
export interface ResourceDefinition<S = unknown> {
  /** `<PluralCamelName>.<suffix>`, e.g. `HostnameStatuses.net.talos.dev` */
  type: string;
  defaultNamespace: string;
  /** extra aliases; the automatic ones (singular name, initials) are added */
  aliases?: string[];
  /** the singular name when the automatic rules get it wrong */
  displayType?: string;
  skipAutomaticAliases?: boolean;
  printColumns?: PrintColumn[];
  /** sensitive resources are readable over the API by admins only */
  sensitive?: boolean;
  /** the spec as YAML data, keys exactly as Talos's (default: the spec itself) */
  toYAML?(spec: S): unknown;
  /** the spec as protobuf bytes (`proto_spec`); absent when the type has no proto form */
  toProto?(spec: S): Uint8Array;
}

/** A definition with its derived names, as `ResourceDefinitions.meta.cosi.dev` shows it. */
export interface FilledDefinition<S = unknown> extends ResourceDefinition<S> {
  displayType: string;
  aliases: string[];
  allAliases: string[];
  printColumns: PrintColumn[];
}

const NAME = /^[A-Z][A-Za-z0-9-]+$/;
const SUFFIX = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

/** English singular of a plural CamelCase name, by the rules the resource type names need. */
export function singular(name: string): string {
  const rules: [RegExp, string][] = [
    [/(ss|us|x|ch|sh)es$/, '$1'],
    [/([^aeiou])ies$/, '$1y'],
    [/(quiz)zes$/, '$1'],
    [/(alias|status)es$/i, '$1'],
    [/s$/, ''],
  ];
  for (const [re, rep] of rules) if (re.test(name)) return name.replace(re, rep);
  return name;
}

/** Derives display type and aliases as COSI does, checking the type name. */
export function fillDefinition<S>(def: ResourceDefinition<S>): FilledDefinition<S> {
  const dot = def.type.indexOf('.');
  if (dot <= 0 || dot === def.type.length - 1) throw new StateError('BRONZE_COSI_INVALID', `resource type "${def.type}": missing name or suffix`);
  const name = def.type.slice(0, dot);
  const suffix = def.type.slice(dot + 1);
  if (name.toLowerCase() === name || !NAME.test(name)) throw new StateError('BRONZE_COSI_INVALID', `resource type "${def.type}": name should be in CamelCase`);
  if (!SUFFIX.test(suffix)) throw new StateError('BRONZE_COSI_INVALID', `resource type "${def.type}": invalid suffix`);
  if (!name.endsWith('s')) throw new StateError('BRONZE_COSI_INVALID', `resource type "${def.type}": name should be plural`);
  const displayType = def.displayType ?? singular(name);
  const aliases = [...(def.aliases ?? [])];
  const allAliases: string[] = [];
  if (!def.skipAutomaticAliases) {
    aliases.push(displayType.toLowerCase());
    allAliases.push(name.toLowerCase());
    const parts = suffix.split('.');
    for (let i = 1; i < parts.length; i++) allAliases.push([name.toLowerCase(), ...parts.slice(0, i)].join('.'));
    const upper = name.replace(/[^A-Z]/g, '');
    if (upper.length > 1) {
      aliases.push(upper.toLowerCase());
      if (!upper.endsWith('S')) aliases.push(`${upper}s`.toLowerCase());
    }
  }
  allAliases.push(...aliases);
  return { ...def, displayType, aliases, allAliases, printColumns: def.printColumns ?? [] };
}

/** The YAML form of a ResourceDefinition resource's spec. */
export function definitionYAML(d: FilledDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: d.type,
    displayType: d.displayType,
    defaultNamespace: d.defaultNamespace,
    aliases: d.aliases,
    allAliases: d.allAliases,
    printColumns: d.printColumns.map((c) => ({ name: c.name, jsonPath: c.jsonPath })),
  };
  if (d.sensitive) out.sensitivity = 'sensitive';
  return out;
}
