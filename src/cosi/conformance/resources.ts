import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { ResourceDefinition } from '../definition.js';
import type { Kind } from '../resource.js';

/**
 * Small resource types for the conformance suites, with hand-written codecs: their protobuf forms are one field
 * (1: string value for strings and sentences, 1: sint64 value for integers), their YAML forms `{ value: ... }`.
 */
export interface StrSpec {
  value: string;
}

export interface IntSpec {
  value: number;
}

export const StrType = 'Strs.test.bronze.dev';
export const IntType = 'Ints.test.bronze.dev';
export const SentenceType = 'Sentences.test.bronze.dev';

function encodeString(v: string): Uint8Array {
  const w = new BinaryWriter();
  if (v !== '') w.uint32((1 << 3) | WireType.LengthDelimited).string(v);
  return w.finish();
}

function decodeString(b: Uint8Array): string {
  const r = new BinaryReader(b);
  let value = '';
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) value = r.string();
    else r.skip(wire);
  }
  return value;
}

function encodeInt(v: number): Uint8Array {
  const w = new BinaryWriter();
  if (v !== 0) w.uint32((1 << 3) | WireType.Varint).sint64(v);
  return w.finish();
}

function decodeInt(b: Uint8Array): number {
  const r = new BinaryReader(b);
  let value = 0;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.Varint) value = Number(r.sint64());
    else r.skip(wire);
  }
  return value;
}

export const strDefinition: ResourceDefinition<StrSpec> = {
  type: StrType,
  defaultNamespace: 'default',
  printColumns: [{ name: 'Value', jsonPath: '{.value}' }],
  toYAML: (s) => ({ value: s.value }),
  toProto: (s) => encodeString(s.value),
  fromProto: (b) => ({ value: decodeString(b) }),
};

export const intDefinition: ResourceDefinition<IntSpec> = {
  type: IntType,
  defaultNamespace: 'default',
  toYAML: (s) => ({ value: s.value }),
  toProto: (s) => encodeInt(s.value),
  fromProto: (b) => ({ value: decodeInt(b) }),
};

export const sentenceDefinition: ResourceDefinition<StrSpec> = { ...strDefinition, type: SentenceType };

/** Every test type, for registries of remote fixtures. */
export const testDefinitions = [strDefinition, intDefinition, sentenceDefinition] as ResourceDefinition[];

export const strKind = (namespace: string): Kind => ({ namespace, type: StrType });
export const intKind = (namespace: string): Kind => ({ namespace, type: IntType });
export const sentenceKind = (namespace: string): Kind => ({ namespace, type: SentenceType });
