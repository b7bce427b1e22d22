import { isIP } from 'node:net';
import { ipText } from '../../pki/der.js';
import { netIP } from '../../resources/codec.js';

/** An IP prefix as numbers: its network address, length and family, with a formatter for addresses in it. */
export interface ParsedPrefix {
  network: bigint;
  bits: number;
  family: 4 | 6;
  format(address: bigint): string;
}

function formatIP(address: bigint, family: 4 | 6): string {
  const bytes = family === 4 ? 4 : 16;
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Number((address >> BigInt((bytes - 1 - i) * 8)) & 0xffn);
  return ipText(b);
}

/** `10.96.0.0/12` → its network address as a number (host bits cleared). Errors name the prefix. */
export function parsePrefix(cidr: string): ParsedPrefix {
  const [ip = '', len] = cidr.split('/');
  const v = isIP(ip);
  if (v === 0 || len === undefined || !/^\d+$/.test(len)) throw new Error(`invalid subnet "${cidr}"`);
  const family = v as 4 | 6;
  const width = family === 4 ? 32 : 128;
  const bits = Number(len);
  if (bits > width) throw new Error(`invalid subnet "${cidr}"`);
  const value = [...netIP(ip).ip].reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  const host = (1n << BigInt(width - bits)) - 1n;
  return { network: value & ~host, bits, family, format: (a) => formatIP(a, family) };
}
