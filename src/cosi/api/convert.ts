import { parse, stringify } from 'yaml';
import { LabelTerm_Operation, type LabelQuery as PBLabelQuery, type Metadata as PBMetadata, type Resource as PBResource } from '../../api/gen/cosi/resource.js';
import { EventType as PBEventType, type Event as PBEvent } from '../../api/gen/cosi/state.js';
import type { FilledDefinition } from '../definition.js';
import { CosiError } from '../errors.js';
import type { IDQuery, LabelOp, LabelQuery } from '../labels.js';
import type { DefinitionLookup } from '../registry.js';
import { type DeepReadonly, type Metadata, type Phase, type Pointer, type Resource, tombstone } from '../resource.js';
import type { StateEvent } from '../state.js';

/** The version of tombstones (destroyed and bootstrapped markers) on the wire. */
export const UNDEFINED_VERSION = 'undefined';

const EMPTY = Buffer.alloc(0);

/** Bytes as the generated messages hold them (a Buffer view, no copy). */
export const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function metadataToProto(m: DeepReadonly<Metadata>): PBMetadata {
  return {
    namespace: m.namespace,
    type: m.type,
    id: m.id,
    version: m.version === 0 ? UNDEFINED_VERSION : String(m.version),
    owner: m.owner,
    phase: m.phase,
    created: m.created,
    updated: m.updated,
    finalizers: [...m.finalizers],
    labels: { ...m.labels },
    annotations: { ...m.annotations },
  };
}

/** Both wire forms of a spec: protobuf bytes (when the type has them) and YAML text with Talos's keys. */
export function specToProto(spec: unknown, def: FilledDefinition | undefined): { protoSpec: Buffer; yamlSpec: string } {
  if (spec === undefined) return { protoSpec: EMPTY, yamlSpec: '' };
  const yamlValue = def?.toYAML ? def.toYAML(spec as never) : spec;
  return {
    protoSpec: def?.toProto ? asBuffer(def.toProto(spec as never)) : EMPTY,
    // Go's YAML encoder (what Talos marshals specs with) indents by four spaces
    yamlSpec: stringify(yamlValue, { lineWidth: 0, indent: 4 }),
  };
}

/** A resource on the wire: metadata plus both spec encodings. Tombstones get an empty spec (clients require one). */
export function resourceToProto(r: DeepReadonly<Resource>, def: FilledDefinition | undefined): PBResource {
  return { metadata: metadataToProto(r.metadata), spec: specToProto(r.spec, def) };
}

/**
 * Encoded specs of the snapshots watch events carry: every watcher of a change shares the store's snapshot (which
 * nobody changes), so its spec is encoded once for all of them.
 */
const encoded = new WeakMap<object, { def: FilledDefinition | undefined; spec: { protoSpec: Buffer; yamlSpec: string } }>();

function snapshotToProto(r: DeepReadonly<Resource>, def: FilledDefinition | undefined): PBResource {
  let e = encoded.get(r);
  if (!e || e.def !== def) {
    e = { def, spec: specToProto(r.spec, def) };
    encoded.set(r, e);
  }
  return { metadata: metadataToProto(r.metadata), spec: e.spec };
}

/**
 * A resource from the wire. Its spec comes from `proto_spec` when the type's definition can decode it, else from
 * `yaml_spec` (YAML-keyed data), else it is undefined (tombstones).
 */
export function resourceFromProto(r: PBResource | undefined, defs?: DefinitionLookup): Resource {
  const m = r?.metadata;
  if (!m) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', 'resource without metadata');
  let version = 0;
  if (m.version !== UNDEFINED_VERSION && m.version !== '') {
    version = Number(m.version);
    if (!Number.isSafeInteger(version) || version < 0) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `resource ${m.type}(${m.namespace}/${m.id}): invalid version "${m.version}"`);
  }
  const phase = m.phase === '' ? 'running' : m.phase;
  if (phase !== 'running' && phase !== 'tearingDown') throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `resource ${m.type}(${m.namespace}/${m.id}): invalid phase "${m.phase}"`);
  return {
    metadata: {
      namespace: m.namespace,
      type: m.type,
      id: m.id,
      version,
      owner: m.owner,
      phase: phase as Phase,
      created: m.created ?? new Date(0),
      updated: m.updated ?? new Date(0),
      finalizers: [...m.finalizers],
      labels: { ...m.labels },
      annotations: { ...m.annotations },
    },
    spec: specFromProto(r.spec, defs?.definition(m.type), m),
  };
}

function specFromProto(spec: PBResource['spec'], def: FilledDefinition | undefined, m: PBMetadata): unknown {
  // tombstones carry an empty spec; any stored spec has a YAML form
  if (!spec || (spec.yamlSpec === '' && spec.protoSpec.length === 0)) return undefined;
  try {
    if (def?.fromProto) return def.fromProto(spec.protoSpec);
    return parse(spec.yamlSpec);
  } catch (e) {
    throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `resource ${m.type}(${m.namespace}/${m.id}): cannot decode its spec: ${(e as Error).message}`, { cause: e });
  }
}

const typeToProto: Record<StateEvent['type'], PBEventType> = {
  created: PBEventType.CREATED,
  updated: PBEventType.UPDATED,
  destroyed: PBEventType.DESTROYED,
  bootstrapped: PBEventType.BOOTSTRAPPED,
  errored: PBEventType.ERRORED,
  noop: PBEventType.NOOP,
};

const typeFromProto = new Map<number, StateEvent['type']>(Object.entries(typeToProto).map(([k, v]) => [v, k as StateEvent['type']]));

/**
 * An event on the wire. Every event but `errored` carries a resource with metadata and a spec (the Go client
 * refuses resources without either): markers carry a tombstone of the watched kind.
 */
export function eventToProto(ev: StateEvent, watched: Pointer, def: FilledDefinition | undefined): PBEvent {
  let resource: PBResource | undefined;
  if (ev.resource) resource = snapshotToProto(ev.resource, def);
  else if (ev.type !== 'errored') resource = resourceToProto(tombstone(watched), def);
  return {
    resource,
    old: ev.old ? snapshotToProto(ev.old, def) : undefined,
    error: ev.error,
    eventType: typeToProto[ev.type],
    bookmark: ev.bookmark ? asBuffer(ev.bookmark) : undefined,
  };
}

export function eventFromProto(ev: PBEvent, defs?: DefinitionLookup): StateEvent {
  const type = typeFromProto.get(ev.eventType);
  if (!type) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `unknown watch event type ${ev.eventType}`);
  const out: StateEvent = { type };
  if (ev.resource) out.resource = resourceFromProto(ev.resource, defs);
  if (ev.old) out.old = resourceFromProto(ev.old, defs);
  if (ev.error !== undefined) out.error = ev.error;
  if (ev.bookmark !== undefined) out.bookmark = ev.bookmark;
  return out;
}

const opToProto: Record<LabelOp, LabelTerm_Operation> = {
  exists: LabelTerm_Operation.EXISTS,
  equal: LabelTerm_Operation.EQUAL,
  in: LabelTerm_Operation.IN,
  lt: LabelTerm_Operation.LT,
  lte: LabelTerm_Operation.LTE,
  ltNumeric: LabelTerm_Operation.LT_NUMERIC,
  lteNumeric: LabelTerm_Operation.LTE_NUMERIC,
};

const opFromProto = new Map<number, LabelOp>(Object.entries(opToProto).map(([k, v]) => [v, k as LabelOp]));

export function labelQueriesToProto(q: readonly LabelQuery[] | undefined): PBLabelQuery[] {
  return (q ?? []).map((x) => ({ terms: x.terms.map((t) => ({ key: t.key, op: opToProto[t.op], value: t.value ?? [], invert: t.invert ?? false })) }));
}

export function labelQueriesFromProto(q: readonly PBLabelQuery[]): LabelQuery[] {
  return q.map((x) => ({
    terms: x.terms.map((t) => {
      // NOT_EXISTS is the deprecated spelling of an inverted EXISTS
      if (t.op === LabelTerm_Operation.NOT_EXISTS) return { key: t.key, op: 'exists' as const, value: t.value, invert: !t.invert };
      const op = opFromProto.get(t.op);
      if (!op) throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `label query term on "${t.key}": unknown operation ${t.op}`);
      return { key: t.key, op, value: t.value, invert: t.invert };
    }),
  }));
}

export function idQueryFromProto(q: { regexp: string } | undefined): IDQuery | undefined {
  return q && q.regexp !== '' ? { regexp: q.regexp } : undefined;
}
