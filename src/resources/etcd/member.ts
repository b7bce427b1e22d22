import { MemberSpec as PB } from '../../api/gen/resource/definitions/etcd/etcd.js';
import { define } from '../codec.js';
import { EtcdNamespace } from '../namespaces.js';

export const EtcdMemberType = 'EtcdMembers.etcd.talos.dev';
export const EtcdLocalMemberID = 'local';

/** The local etcd member: its id as 16 hex digits. */
export interface EtcdMemberSpec {
  memberID: string;
}

export const etcdMemberDefinition = define<EtcdMemberSpec, PB>(
  { type: EtcdMemberType, defaultNamespace: EtcdNamespace, printColumns: [{ name: 'Member ID', jsonPath: '{.memberID}' }] },
  PB,
  (s) => ({ memberId: s.memberID }),
);

/** An etcd member id as Talos writes it: 16 lower-case hex digits. */
export const formatMemberID = (id: bigint | string): string => BigInt(id).toString(16).padStart(16, '0');

/** A member id from its hex form (with or without leading zeros). */
export function parseMemberID(text: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text)) throw new Error(`invalid etcd member id "${text}": expected up to 16 hex digits`);
  return BigInt(`0x${text}`);
}
