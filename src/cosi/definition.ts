import { CosiError } from './errors.js';

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
  /**
   * The spec codec. `toYAML`: the spec as YAML data with Talos's keys (what `yaml_spec` carries and print columns
   * read; default: the spec as it is). `toProto`: the spec as protobuf bytes with Talos's field numbers
   * (`proto_spec`; absent when the type has no protobuf form). `fromProto`: the spec back from those bytes, so a
   * remote reader gets typed specs (without it the spec is read from its YAML form).
   */
  toYAML?(spec: S): unknown;
  toProto?(spec: S): Uint8Array;
  // typed `unknown` (not S) so that a definition of any spec still fits `ResourceDefinition<never>`
  fromProto?(bytes: Uint8Array): unknown;
}

/** A definition with its derived names, as `ResourceDefinitions.meta.cosi.dev` shows it. */
export interface FilledDefinition<S = unknown> extends ResourceDefinition<S> {
  displayType: string;
  aliases: string[];
  allAliases: string[];
  printColumns: PrintColumn[];
}

/** The plural CamelCase name, as COSI requires it. */
const NAME = /^[A-Z][A-Za-z0-9-]+$/;
/** Dotted lowercase words of at least two characters, e.g. `net.talos.dev`. */
const SUFFIX = /^[a-z][a-z0-9-]+(\.[a-z][a-z0-9-]+)*$/;

/** Words with one form for both numbers (checked as whole names). */
const UNCOUNTABLE = new Set(['equipment', 'firmware', 'hardware', 'information', 'news', 'series', 'software', 'staff', 'traffic']);
/** Endings of words with one form for both numbers. */
const UNCOUNTABLE_ENDING = /(?:[^aeiou]ese|deer|fish|measles|o[iu]s|pox|sheep)$/i;
/** Endings that make a word ending in "s" singular. */
const SINGULAR_S = /(?:ss|[^aou]us|alias|[aeiou]ris|sis|gas|t[lm]as)$/i;

/**
 * How a plural ending becomes singular, tried in order; the first match decides. These are the English rules
 * COSI's pluralizer applies to resource type names (e.g. `HostnameStatuses` → `HostnameStatus`, `Identities` →
 * `Identity`, `DNSResolveCaches` → `DNSResolveCach`: its rule for "ches" holds there too, and Talos shows that).
 */
const SINGULAR_RULES: readonly (readonly [RegExp, string])[] = [
  // the first group (if any) is kept, the rest of the match becomes the second element
  [/(child)ren$/i, ''],
  [/(pe)ople$/i, 'rson'],
  [/men$/i, 'man'],
  [/(matr|append)ices$/i, 'ix'],
  [/(cod|mur|sil|vert|ind)ices$/i, 'ex'],
  [/(movie|abuse|e[mn]u)s$/i, ''],
  [/(x|ch|sh|ss|zz|alias|[^aou]us|(?:her|at|gr)o|cho|go|tto)es$/i, ''],
  [/(ck|dg|ec|is|ix|lk|mb|ok|ss|th|ts|wn)ies$/i, 'ie'],
  [/ies$/i, 'y'],
  [/(wi|kni|li)ves$/i, 'fe'],
  [/(ar|[ae]l|wol|[eo][ao])ves$/i, 'f'],
  [/([^s])s$/i, ''],
];

/** Keeps the case of a replaced ending: an all-capitals ending gets a capital replacement. */
function withCaseOf(matched: string, replacement: string): string {
  return matched.length > 1 && matched === matched.toUpperCase() ? replacement.toUpperCase() : replacement;
}

/** Whether a CamelCase name is an English plural (a resource type name must be one). */
export function isPlural(name: string): boolean {
  const w = name.toLowerCase();
  if (UNCOUNTABLE.has(w) || UNCOUNTABLE_ENDING.test(w)) return true;
  if (/(?:children|people|men|ices)$/.test(w)) return true;
  return w.endsWith('s') && !SINGULAR_S.test(w);
}

/** The singular of a plural CamelCase name, as COSI derives a type's display name. */
export function singular(name: string): string {
  const w = name.toLowerCase();
  if (UNCOUNTABLE.has(w) || UNCOUNTABLE_ENDING.test(w) || SINGULAR_S.test(w)) return name;
  for (const [re, ending] of SINGULAR_RULES) {
    const m = re.exec(name);
    if (!m) continue;
    const kept = m[1] ?? '';
    return name.slice(0, m.index) + kept + withCaseOf(m[0].slice(kept.length), ending);
  }
  return name;
}

/** Derives display type and aliases as COSI does, checking the type name. */
export function fillDefinition<S>(def: ResourceDefinition<S>): FilledDefinition<S> {
  const bad = (why: string) => new CosiError('BRONZE_COSI_INVALID_DEFINITION', `resource type "${def.type}": ${why}`);
  const dot = def.type.indexOf('.');
  if (dot < 0) throw bad('missing suffix');
  const name = def.type.slice(0, dot);
  const suffix = def.type.slice(dot + 1);
  if (name === '') throw bad('name is empty');
  if (suffix === '') throw bad('suffix is empty');
  if (name.toLowerCase() === name) throw bad('name should be in CamelCase');
  if (!NAME.test(name)) throw bad(`name doesn't match ${NAME.source}`);
  if (!SUFFIX.test(suffix)) throw bad(`suffix doesn't match ${SUFFIX.source}`);
  if (!isPlural(name)) throw bad('name should be plural');
  if (!def.defaultNamespace) throw bad('no default namespace');
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

/** The YAML form of a ResourceDefinition resource's spec, keys and omissions as Talos prints them. */
export interface DefinitionYAML {
  type: string;
  displayType: string;
  defaultNamespace: string;
  aliases: string[];
  allAliases: string[];
  skipAutomaticAliases?: true;
  printColumns: PrintColumn[];
  sensitivity?: 'sensitive';
}

export function definitionYAML(d: FilledDefinition): DefinitionYAML {
  const out: DefinitionYAML = {
    type: d.type,
    displayType: d.displayType,
    defaultNamespace: d.defaultNamespace,
    aliases: [...d.aliases],
    allAliases: [...d.allAliases],
    printColumns: [],
  };
  if (d.skipAutomaticAliases) out.skipAutomaticAliases = true;
  // printColumns after skipAutomaticAliases, as Talos orders the keys
  delete (out as Partial<DefinitionYAML>).printColumns;
  out.printColumns = d.printColumns.map((c) => ({ name: c.name, jsonPath: c.jsonPath }));
  if (d.sensitive) out.sensitivity = 'sensitive';
  return out;
}
