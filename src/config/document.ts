/**
 * Config documents and the machine config (a bundle of documents). A loaded document keeps its YAML source, so
 * saving an unmodified config gives back the text as written (comments and order); `encode()` gives the canonical
 * form talosctl writes.
 */
import { type Document, isMap } from 'yaml';
import { canonicalize, encodeValue, type EncodeOptions } from './encode.js';
import { ConfigError } from './errors.js';
import type { Infer, ObjSchema } from './schema/dsl.js';
import { documentSchema, kindByName } from './schema/kinds.js';
import { v1alpha1Schema } from './schema/v1alpha1.js';

/** The kind name Talos uses for the legacy document in identities and messages. */
export const V1ALPHA1 = 'v1alpha1';

/** The v1alpha1 document as decoded. */
export type V1Alpha1Config = Infer<typeof v1alpha1Schema>;
export type MachineSection = NonNullable<V1Alpha1Config['machine']>;
export type ClusterSection = NonNullable<V1Alpha1Config['cluster']>;

const docSchemas = new Map<string, ObjSchema>();

/** The schema of a document kind (`v1alpha1` for the legacy document); undefined for kinds we do not know. */
export function schemaOfKind(kind: string): ObjSchema | undefined {
  if (kind === V1ALPHA1) return v1alpha1Schema;
  let s = docSchemas.get(kind);
  if (!s) {
    const spec = kindByName.get(kind);
    if (!spec) return undefined;
    s = documentSchema(spec);
    docSchemas.set(kind, s);
  }
  return s;
}

export class ConfigDocument {
  /** empty for the legacy v1alpha1 document */
  readonly apiVersion: string;
  /** `v1alpha1` for the legacy document */
  readonly kind: string;
  /** the decoded value: only keys that were set, typed by the schema */
  value: Record<string, unknown>;
  /** the parsed YAML, for documents that were loaded */
  readonly yaml: Document | undefined;
  /** the document's text as it was loaded; cleared when the value is changed */
  source: string | undefined;
  /** 1-based line of the document in its source */
  readonly line: number | undefined;

  constructor(apiVersion: string, kind: string, value: Record<string, unknown>, opts: { yaml?: Document; source?: string; line?: number } = {}) {
    this.apiVersion = apiVersion;
    this.kind = kind;
    this.value = value;
    this.yaml = opts.yaml;
    this.source = opts.source;
    this.line = opts.line;
  }

  /**
   * A new document of a kind from a value (apiVersion and kind are set for multi-doc kinds), in canonical form: what
   * loading its encoding gives back.
   */
  static of(kind: string, value: Record<string, unknown>): ConfigDocument {
    if (kind === V1ALPHA1) return new ConfigDocument('', V1ALPHA1, canonicalize({ version: 'v1alpha1', ...value }, v1alpha1Schema) as Record<string, unknown>);
    const schema = schemaOfKind(kind);
    if (!schema) throw new ConfigError('BRONZE_CONFIG_DOCUMENT', `unknown document kind ${JSON.stringify(kind)}`);
    return new ConfigDocument('v1alpha1', kind, canonicalize({ apiVersion: 'v1alpha1', kind, ...value }, schema) as Record<string, unknown>);
  }

  get isV1Alpha1(): boolean {
    return this.kind === V1ALPHA1;
  }

  get named(): boolean {
    return kindByName.get(this.kind)?.named ?? false;
  }

  get name(): string | undefined {
    return this.named ? String(this.value.name ?? '') : undefined;
  }

  /** Talos's document id: `v1alpha1`, `Kind` or `Kind/name`. */
  get id(): string {
    return this.named ? `${this.kind}/${this.name}` : this.kind;
  }

  /** The identity used to match documents in patches: `apiVersion/kind[/name]`. */
  get matchKey(): string {
    return `${this.apiVersion}/${this.kind}${this.named ? `/${this.name}` : ''}`;
  }

  get schema(): ObjSchema {
    return schemaOfKind(this.kind)!;
  }

  /** The kind's one-line description. */
  get description(): string | undefined {
    return this.isV1Alpha1 ? undefined : kindByName.get(this.kind)?.doc;
  }

  /** The v1alpha1 value, typed (only for the legacy document). */
  get v1alpha1(): V1Alpha1Config {
    if (!this.isV1Alpha1) throw new ConfigError('BRONZE_CONFIG_DOCUMENT', `${this.id} is not the v1alpha1 document`);
    return this.value as V1Alpha1Config;
  }

  /** Replaces the value; the document is then written in canonical form. */
  setValue(value: Record<string, unknown>): void {
    this.value = value;
    this.source = undefined;
  }

  clone(): ConfigDocument {
    const d = new ConfigDocument(this.apiVersion, this.kind, structuredClone(this.value), { yaml: this.yaml, source: this.source, line: this.line });
    return d;
  }

  /** Canonical text, as talosctl writes the document. */
  encode(opts: EncodeOptions = {}): string {
    return encodeValue(this.value, this.schema, opts, this.description);
  }

  /** The text as loaded when unchanged (comments and order kept), else the canonical form. */
  toString(): string {
    return this.source ?? this.encode();
  }
}

/** A machine configuration: the v1alpha1 document (at most one) and any other documents, in order. */
export class MachineConfig {
  readonly documents: ConfigDocument[];

  constructor(documents: ConfigDocument[]) {
    checkContainer(documents);
    this.documents = documents;
  }

  /** The v1alpha1 document, if any. */
  get v1alpha1Document(): ConfigDocument | undefined {
    return this.documents.find((d) => d.isV1Alpha1);
  }

  get v1alpha1(): V1Alpha1Config | undefined {
    return this.v1alpha1Document?.v1alpha1;
  }

  /** `machine.type` as written (empty when absent). */
  get machineType(): string {
    return this.v1alpha1?.machine?.type ?? '';
  }

  find(kind: string, name?: string): ConfigDocument | undefined {
    return this.documents.find((d) => d.kind === kind && (name === undefined || d.name === name));
  }

  findAll(kind: string): ConfigDocument[] {
    return this.documents.filter((d) => d.kind === kind);
  }

  clone(): MachineConfig {
    return new MachineConfig(this.documents.map((d) => d.clone()));
  }

  /** Canonical text of all documents, separated by `---`. */
  encode(opts: EncodeOptions = {}): string {
    return this.documents.map((d) => d.encode(opts)).join('---\n');
  }

  /**
   * The config as text: loaded documents exactly as written (comments, order, separators), changed or new ones in
   * canonical form.
   */
  toString(): string {
    let out = '';
    this.documents.forEach((d, i) => {
      let t = d.source ?? d.encode();
      if (i > 0 && !/^(\s*#[^\n]*\n|\s*\n)*---/.test(t)) t = `---\n${t}`;
      if (out !== '' && !out.endsWith('\n')) out += '\n';
      out += t;
    });
    return out;
  }
}

/** The checks Talos's container makes: one v1alpha1 document, no duplicate or conflicting documents. */
function checkContainer(documents: ConfigDocument[]): void {
  const seen = new Set<string>();
  const conflicts = new Map<string, string>();
  let v1 = false;
  for (const d of documents) {
    if (d.isV1Alpha1) {
      if (v1) throw new ConfigError('BRONZE_CONFIG_DUPLICATE', 'duplicate v1alpha1.Config', [{ document: V1ALPHA1, path: '.', line: d.line, message: 'a second v1alpha1 document' }]);
      v1 = true;
      continue;
    }
    const id = `${d.kind}/${d.named ? d.name : ''}`;
    if (seen.has(id)) throw new ConfigError('BRONZE_CONFIG_DUPLICATE', `duplicate document: ${id}`, [{ document: d.id, path: '.', line: d.line, message: 'duplicate document' }]);
    seen.add(id);
    const conflicting = conflicts.get(id);
    if (conflicting) throw new ConfigError('BRONZE_CONFIG_DUPLICATE', `conflicting documents: ${conflicting} and ${id}`, [{ document: d.id, path: '.', line: d.line, message: `conflicts with ${conflicting}` }]);
    for (const k of kindByName.get(d.kind)?.conflictsWith ?? []) {
      const cid = `${k}/${d.named ? d.name : ''}`;
      if (seen.has(cid)) throw new ConfigError('BRONZE_CONFIG_DUPLICATE', `conflicting documents: ${cid} and ${id}`, [{ document: d.id, path: '.', line: d.line, message: `conflicts with ${cid}` }]);
      conflicts.set(cid, id);
    }
  }
}

/** Whether a parsed YAML document holds a mapping at its root. */
export function isMappingDocument(doc: Document): boolean {
  return isMap(doc.contents);
}
