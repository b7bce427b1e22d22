/**
 * Loading machine configs (Talos's configloader): a YAML stream of documents, the legacy v1alpha1 document
 * recognised by its keys, other documents by apiVersion and kind; strict decoding; duplicates rejected.
 */
import { type Document, isMap, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { decodeNode, findScalar, lineOf, newDecodeContext, scalarText } from './decode.js';
import { ConfigDocument, MachineConfig, schemaOfKind, V1ALPHA1 } from './document.js';
import { ConfigError, type ConfigIssue, formatIssue } from './errors.js';
import { type DeleteSelector, extractDeletes } from './patch/delete.js';
import { schemaErrorMessage, instancePathToDotted, validatorFor } from './schema/json-schema.js';

export interface LoadOptions {
  /** accept `$patch: delete` markers (patches only) */
  allowPatchDelete?: boolean;
  /** name of the source (a file) for messages */
  source?: string;
}

/** What a patch load yields: documents and delete selectors, in order. */
export type LoadedEntry = ConfigDocument | DeleteSelector;

const legacyKeys = new Set(['machine', 'cluster', 'debug', 'persist']);

/** Upper bound of input size, against resource exhaustion by untrusted input. */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;

function docLabel(apiVersion: string, kind: string, name: string): string {
  return `${apiVersion}/${kind}/${name}`;
}

/** What Talos's v1alpha1 decoding does beyond types: inline manifest contents lose their leading blank lines. */
function normalizeV1Alpha1(value: Record<string, unknown>): void {
  const manifests = (value.cluster as { inlineManifests?: { contents?: string }[] } | undefined)?.inlineManifests;
  for (const m of manifests ?? []) if (typeof m.contents === 'string') m.contents = m.contents.replace(/^[\t\n\v\f\r]+/, '');
}

/** Parses and decodes every document; with allowPatchDelete, delete markers become selectors. */
export function loadEntries(text: string, opts: LoadOptions = {}): LoadedEntry[] {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError('BRONZE_CONFIG_YAML', `config is too large (${text.length} bytes, at most ${MAX_CONFIG_BYTES})`);
  const src = opts.source ? `${opts.source}: ` : '';
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, merge: true, prettyErrors: false, strict: true, logLevel: 'error' }) as Document.Parsed[];
  } catch (e) {
    throw new ConfigError('BRONZE_CONFIG_YAML', `${src}decode error: ${(e as Error).message}`, [], { cause: e });
  }
  if (!Array.isArray(docs)) docs = [];

  const out: LoadedEntry[] = [];
  const known = new Set<string>();
  let chunkStart = 0;
  docs.forEach((doc, index) => {
    const chunkEnd = index === docs.length - 1 ? text.length : doc.range[2];
    const chunk = text.slice(chunkStart, chunkEnd);
    chunkStart = chunkEnd;
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line ?? (err.pos ? lineCounter.linePos(err.pos[0]).line : undefined);
      throw new ConfigError('BRONZE_CONFIG_YAML', `${src}decode error: ${err.message.split('\n')[0]}${line ? ` (line ${line})` : ''}`, [{ document: '', path: '.', line, message: err.message.split('\n')[0]! }]);
    }
    if (opts.allowPatchDelete) {
      const { selectors, empty } = extractDeletes(doc, index);
      out.push(...selectors);
      if (empty) return;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) return;
    if (!isMap(root)) throw new ConfigError('BRONZE_CONFIG_DOCUMENT', `${src}expected a YAML document at line ${lineOf({ lineCounter }, root) ?? '?'}`, [{ document: '', path: '.', line: lineOf({ lineCounter }, root), message: 'not a mapping' }]);
    const line = lineOf({ lineCounter }, root);
    const apiVersionKey = findScalar(root, 'apiVersion');
    const kindKey = findScalar(root, 'kind');
    const nameKey = findScalar(root, 'name');
    const label = docLabel(apiVersionKey, kindKey || V1ALPHA1, nameKey);
    if (known.has(label)) throw new ConfigError('BRONZE_CONFIG_DUPLICATE', `${src}duplicate document ${label} is not allowed (line ${line})`, [{ document: kindKey || V1ALPHA1, path: '.', line, message: 'duplicate document' }]);
    known.add(label);

    let version = '';
    for (const p of root.items) {
      const k = isScalar(p.key) ? scalarText(p.key) : '';
      if (k === 'apiVersion') version = findScalar(root, 'apiVersion');
      else if (legacyKeys.has(k)) version = 'v1alpha1';
    }
    const fail = (message: string, issues: ConfigIssue[] = []) =>
      new ConfigError('BRONZE_CONFIG_DECODE', `${src}error decoding document ${label} (line ${line}): ${message}`, issues.length ? issues : [{ document: kindKey || V1ALPHA1, path: '.', line, message }]);
    let kind: string;
    if (version === 'v1alpha1' && kindKey === '') kind = V1ALPHA1;
    else if (kindKey === '') throw fail('missing kind');
    else if (version === '') throw fail('missing apiVersion');
    else if (version !== 'v1alpha1' || !schemaOfKind(kindKey) || kindKey === V1ALPHA1) throw fail(`${JSON.stringify(kindKey)} ${JSON.stringify(version)}: not registered`);
    else kind = kindKey;

    const schema = schemaOfKind(kind)!;
    const document = kind === V1ALPHA1 ? V1ALPHA1 : kind + (nameKey ? `/${nameKey}` : '');
    const ctx = newDecodeContext(document, doc, lineCounter);
    const value = (decodeNode(ctx, root, schema, '') ?? {}) as Record<string, unknown>;
    if (kind === V1ALPHA1) normalizeV1Alpha1(value);
    if (ctx.issues.length === 0) {
      const validate = validatorFor(schema);
      if (!validate(value)) {
        for (const e of validate.errors ?? []) ctx.issues.push({ document, path: instancePathToDotted(e.instancePath), message: schemaErrorMessage(e, value) });
      }
    }
    if (ctx.issues.length) {
      const unknown = ctx.issues.filter((i) => i.message === 'unknown key');
      const head = unknown.length === ctx.issues.length ? 'unknown keys found during decoding: ' : '';
      throw fail(`${head}${ctx.issues.map((i) => (head ? `${i.path}${i.line ? ` (line ${i.line})` : ''}` : formatIssue(i).slice(document.length + 2))).join('; ')}`, ctx.issues);
    }
    out.push(new ConfigDocument(kind === V1ALPHA1 ? '' : version, kind, value, { yaml: doc, source: opts.allowPatchDelete ? undefined : chunk, line }));
  });
  return out;
}

/** Loads a machine config (one or more documents). An empty input is an error, as in Talos. */
export function loadConfig(text: string, opts: Omit<LoadOptions, 'allowPatchDelete'> = {}): MachineConfig {
  const entries = loadEntries(text, opts) as ConfigDocument[];
  if (entries.length === 0) throw new ConfigError('BRONZE_CONFIG_EMPTY', `${opts.source ? `${opts.source}: ` : ''}config not found`, [{ document: '', path: '.', message: 'no documents' }]);
  return new MachineConfig(entries);
}
