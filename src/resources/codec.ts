import { isIP } from 'node:net';
import type { DeepPartial } from '../client/rpc.js';
import type { ResourceDefinition } from '../cosi/definition.js';

/** Talos's enumerations as the text its YAML specs use and the numbers its protobuf specs use. */
export class TextEnum<T extends string> {
  private readonly byName: Map<string, number>;
  private readonly byNumber: Map<number, T>;

  constructor(readonly pairs: readonly (readonly [T, number])[]) {
    this.byName = new Map(pairs);
    this.byNumber = new Map(pairs.map(([n, v]) => [v, n]));
  }

  number(name: T): number {
    const v = this.byName.get(name);
    if (v === undefined) throw new Error(`unknown value "${name}" (expected one of ${[...this.byName.keys()].join(', ')})`);
    return v;
  }

  name(n: number): T {
    const v = this.byNumber.get(n);
    if (v === undefined) throw new Error(`unknown enum value ${n}`);
    return v;
  }
}

export const ConfigLayer = new TextEnum([
  ['default', 0],
  ['cmdline', 1],
  ['platform', 2],
  ['operator', 3],
  ['configuration', 4],
] as const);
export type ConfigLayerName = (typeof ConfigLayer.pairs)[number][0];

export const Family = new TextEnum([
  ['inet4', 2],
  ['inet6', 10],
] as const);
export type FamilyName = (typeof Family.pairs)[number][0];

export const Scope = new TextEnum([
  ['global', 0],
  ['site', 200],
  ['link', 253],
  ['host', 254],
  ['nowhere', 255],
] as const);
export type ScopeName = (typeof Scope.pairs)[number][0];

const ADDRESS_FLAGS = ['temporary', 'nodad', 'optimistic', 'dadfailed', 'homeaddress', 'deprecated', 'tentative', 'permanent', 'mngmtmpaddr', 'noprefixroute', 'mcautojoin', 'stableprivacy'];

/** Address flags as Talos writes them in YAML: comma-separated names, e.g. `permanent`. */
export function addressFlagsText(flags: number): string {
  return ADDRESS_FLAGS.filter((_, i) => (flags & (1 << i)) !== 0).join(',');
}

export function addressFlagsNumber(text: string): number {
  if (text === '') return 0;
  return text.split(',').reduce((acc, f) => {
    const i = ADDRESS_FLAGS.indexOf(f);
    if (i < 0) throw new Error(`unknown address flag "${f}"`);
    return acc | (1 << i);
  }, 0);
}

/** An IP address as `common.NetIP` bytes (4 or 16). */
export function netIP(ip: string): { ip: Buffer } {
  const v = isIP(ip);
  if (v === 4) return { ip: Buffer.from(ip.split('.').map(Number)) };
  if (v === 6) {
    const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, ''];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
    return { ip: b };
  }
  throw new Error(`invalid IP address "${ip}"`);
}

/** A prefix (`10.0.0.5/24`) as `common.NetIPPrefix`. */
export function netIPPrefix(prefix: string): { ip: Buffer; prefixLength: number } {
  const slash = prefix.lastIndexOf('/');
  if (slash < 0) throw new Error(`invalid prefix "${prefix}"`);
  return { ...netIP(prefix.slice(0, slash)), prefixLength: Number(prefix.slice(slash + 1)) };
}

/** A PEM pair as Talos's YAML holds it (base64 of the PEM text) → `common.PEMEncodedCertificateAndKey`. */
export function pemPair(p: { crt: string; key?: string } | undefined): { crt: Buffer; key: Buffer } | undefined {
  return p ? { crt: Buffer.from(p.crt, 'base64'), key: Buffer.from(p.key ?? '', 'base64') } : undefined;
}

export function pemCert(p: { crt: string }): { crt: Buffer } {
  return { crt: Buffer.from(p.crt, 'base64') };
}

/** The parts of a ts-proto message codec a definition needs. */
interface ProtoCodec<M> {
  encode(m: M): { finish(): Uint8Array };
  fromPartial(o: never): M;
}

/** A resource definition whose protobuf form is `codec` filled from the spec by `toMessage`. */
export function define<S, M>(def: Omit<ResourceDefinition<S>, 'toProto'>, codec: ProtoCodec<M>, toMessage: (spec: S) => DeepPartial<M>): ResourceDefinition<S> {
  return { ...def, toProto: (spec) => codec.encode(codec.fromPartial(toMessage(spec) as never)).finish() };
}
