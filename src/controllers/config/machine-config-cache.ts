import { ConfigDocument, MachineConfig } from '../../config/document.js';
import { loadConfig, loadEntries, MAX_CONFIG_BYTES } from '../../config/loader.js';
import type { Resource } from '../../cosi/resource.js';
import type { MachineConfigSpec } from '../../resources/config/machine-config.js';

/** Parsed configs by their text: the active one, the one before it, and a staged or tried one fit. */
const cache = new Map<string, MachineConfig>();
const CACHE_SIZE = 4;

/**
 * Documents by their text, as loaded on their own (lines counted from the document's first line): those of the
 * cached configs and a few more (each holds its YAML tree).
 */
const documents = new Map<string, ConfigDocument[]>();
const DOCUMENTS_SIZE = 12;

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
    c = loadReusingDocuments(text);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(text, c);
  return c;
}

/** The parsed machine config of a MachineConfig resource (see parsedConfigText). */
export function parsedConfig(r: Resource<MachineConfigSpec>): MachineConfig {
  return parsedConfigText(r.spec.text);
}

/** A line that starts a document (`---`), ends one (`...`) or is a directive (`%`). */
const MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)|^%/gm;

/**
 * The text cut before each line starting a document, or undefined when it has document end markers or directives
 * (those tie documents together; such a text is loaded whole). YAML forbids `---` at the start of a line inside
 * any scalar, so each piece is exactly one document of the stream (or only comments and space).
 */
export function splitDocuments(text: string): { text: string; line: number }[] | undefined {
  const pieces: { text: string; line: number }[] = [];
  let start = 0;
  let line = 1;
  for (const m of text.matchAll(MARKER)) {
    if (m[0] !== '---') return undefined;
    if (m.index > start) {
      pieces.push({ text: text.slice(start, m.index), line });
      line += countLines(text, start, m.index);
    }
    start = m.index;
  }
  if (start < text.length) pieces.push({ text: text.slice(start), line });
  return pieces;
}

function countLines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * loadConfig, with the documents that were in an earlier config taken from it: an apply usually changes one small
 * document next to a large v1alpha1 one, and parsing YAML is most of what loading costs. The result is the one
 * loadConfig gives (the same documents, sources and lines); any error comes from loadConfig on the whole text.
 */
function loadReusingDocuments(text: string): MachineConfig {
  const pieces = text.length <= MAX_CONFIG_BYTES ? splitDocuments(text) : undefined;
  if (!pieces || pieces.length < 2) return loadConfig(text);
  try {
    const out: ConfigDocument[] = [];
    // what loadConfig counts as a document's source ends with its last node: comments after it open the next one's
    let carry = '';
    pieces.forEach((p, i) => {
      let docs = documents.get(p.text);
      if (docs) documents.delete(p.text);
      else docs = loadEntries(p.text) as ConfigDocument[];
      if (documents.size >= DOCUMENTS_SIZE) documents.delete(documents.keys().next().value!);
      documents.set(p.text, docs);
      const d = docs[0];
      const nodeEnd = d?.yaml?.range?.[2];
      if (docs.length !== 1 || nodeEnd === undefined || d.line === undefined) throw new Error('not one document');
      const end = i === pieces.length - 1 ? p.text.length : nodeEnd;
      out.push(new ConfigDocument(d.apiVersion, d.kind, d.value, { yaml: d.yaml, source: carry + p.text.slice(0, end), line: d.line + p.line - 1 }));
      carry = p.text.slice(end);
    });
    return new MachineConfig(out);
  } catch {
    // loaded whole: a piece that is not one document (only comments, say), and any error, which then says where it
    // is in the whole text
    return loadConfig(text);
  }
}
