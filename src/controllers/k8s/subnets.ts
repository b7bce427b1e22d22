import { isIP } from 'node:net';
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
  const b: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) b.push(Number((address >> BigInt(i * 8)) & 0xffn));
  if (family === 4) return b.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16));
  // the longest run of zero groups (two or more) becomes `::`
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
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
