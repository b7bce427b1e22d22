import { parse, stringify } from 'yaml';
import { LabelTerm_Operation, type LabelQuery as PBLabelQuery, type Metadata as PBMetadata, type Resource as PBResource } from '../../api/gen/cosi/resource.js';
import { EventType as PBEventType, type Event as PBEvent } from '../../api/gen/cosi/state.js';
import type { FilledDefinition } from '../definition.js';
import type { LabelOp, LabelQuery } from '../labels.js';
import type { Metadata, Phase, Pointer, Resource } from '../resource.js';
import type { StateEvent } from '../state.js';

/** Version strings on the wire: decimal, or `undefined` for tombstones. */
export const UNDEFINED_VERSION = 'undefined';

export function metadataToProto(m: Metadata, tombstone = false): PBMetadata {
  return {
    namespace: m.namespace,
    type: m.type,
    id: m.id,
    version: tombstone ? UNDEFINED_VERSION : String(m.version),
    owner: m.owner,
    phase: tombstone ? '' : m.phase,
    created: tombstone ? undefined : m.created,
    updated: tombstone ? undefined : m.updated,
    finalizers: [...m.finalizers],
    labels: { ...m.labels },
    annotations: { ...m.annotations },
  };
}

/** A resource on the wire: metadata plus both spec encodings (YAML text and protobuf bytes). */
export function resourceToProto(r: Readonly<Resource>, def: FilledDefinition | undefined, tombstone = false): PBResource {
  const spec = tombstone || r.spec === undefined ? { protoSpec: Buffer.alloc(0), yamlSpec: '' } : specToProto(r.spec, def);
  return { metadata: metadataToProto(r.metadata, tombstone), spec };
}

export function specToProto(spec: unknown, def: FilledDefinition | undefined): { protoSpec: Buffer; yamlSpec: string } {
  const yamlValue = def?.toYAML ? def.toYAML(spec) : spec;
  return {
    protoSpec: def?.toProto ? Buffer.from(def.toProto(spec)) : Buffer.alloc(0),
    yamlSpec: stringify(yamlValue, { lineWidth: 0 }),
  };
}

/** A tombstone: just the pointer (the ID empty for a kind's bootstrapped marker). */
export function tombstoneProto(ptr: Pointer): PBResource {
  return {
    metadata: { namespace: ptr.namespace, type: ptr.type, id: ptr.id, version: UNDEFINED_VERSION, owner: '', phase: '', created: undefined, updated: undefined, finalizers: [], labels: {}, annotations: {} },
    spec: { protoSpec: Buffer.alloc(0), yamlSpec: '' },
  };
}

export function resourceFromProto(r: PBResource | undefined): Resource {
  const m = r?.metadata;
  if (!m) throw new Error('resource without metadata');
  const version = m.version === UNDEFINED_VERSION || m.version === '' ? 0 : Number(m.version);
  const yamlSpec = r.spec?.yamlSpec ?? '';
  return {
    metadata: {
      namespace: m.namespace,
      type: m.type,
      id: m.id,
      version,
      owner: m.owner,
      phase: (m.phase || 'running') as Phase,
      created: m.created ?? new Date(0),
      updated: m.updated ?? new Date(0),
      finalizers: [...m.finalizers],
      labels: { ...m.labels },
      annotations: { ...m.annotations },
    },
    spec: yamlSpec === '' ? undefined : parse(yamlSpec),
  };
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

export function eventToProto(ev: StateEvent, kind: Pointer, def: FilledDefinition | undefined): PBEvent {
  let resource: PBResource;
  if (ev.type === 'bootstrapped' || ev.type === 'errored' || ev.type === 'noop' || !ev.resource) resource = tombstoneProto({ ...kind, id: ev.resource?.metadata.id ?? '' });
  else resource = resourceToProto(ev.resource, def);
  return {
    resource,
    old: ev.old ? resourceToProto(ev.old, def) : undefined,
    error: ev.error,
    eventType: typeToProto[ev.type],
    bookmark: ev.bookmark ? Buffer.from(ev.bookmark) : undefined,
  };
}

export function eventFromProto(ev: PBEvent): StateEvent {
  const type = typeFromProto.get(ev.eventType);
  if (!type) throw new Error(`unknown event type ${ev.eventType}`);
  const out: StateEvent = { type };
  if (type === 'created' || type === 'updated' || type === 'destroyed') out.resource = resourceFromProto(ev.resource);
  if (ev.old) out.old = resourceFromProto(ev.old);
  if (ev.error !== undefined) out.error = ev.error;
  if (ev.bookmark !== undefined && ev.bookmark.length > 0) out.bookmark = ev.bookmark;
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

export function labelQueriesToProto(q: LabelQuery[] | undefined): PBLabelQuery[] {
  return (q ?? []).map((x) => ({ terms: x.terms.map((t) => ({ key: t.key, op: opToProto[t.op], value: t.value ?? [], invert: t.invert ?? false })) }));
}

export function labelQueriesFromProto(q: PBLabelQuery[]): LabelQuery[] {
  return q.map((x) => ({
    terms: x.terms.map((t) => {
      // NOT_EXISTS is the deprecated spelling of an inverted EXISTS
      if (t.op === LabelTerm_Operation.NOT_EXISTS) return { key: t.key, op: 'exists' as const, value: t.value, invert: !t.invert };
      const op = (Object.entries(opToProto).find(([, v]) => v === t.op)?.[0] ?? 'exists') as LabelOp;
      return { key: t.key, op, value: t.value, invert: t.invert };
    }),
  }));
}
