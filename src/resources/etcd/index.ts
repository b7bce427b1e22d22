export { etcdConfigDefinition, EtcdConfigID, EtcdConfigType, type EtcdConfigSpec } from './config.js';
export { etcdSpecDefinition, EtcdSpecID, EtcdSpecType, type EtcdSpecSpec, type EtcdExtraArgs } from './spec.js';
export { etcdMemberDefinition, EtcdLocalMemberID, EtcdMemberType, type EtcdMemberSpec, formatMemberID, parseMemberID } from './member.js';
export { etcdPKIStatusDefinition, EtcdPKIID, EtcdPKIStatusType, type EtcdPKIStatusSpec } from './pki-status.js';

import { etcdConfigDefinition } from './config.js';
import { etcdMemberDefinition } from './member.js';
import { etcdPKIStatusDefinition } from './pki-status.js';
import { etcdSpecDefinition } from './spec.js';

/** The `etcd` namespace's resource types. */
export const etcdDefinitions = [etcdConfigDefinition, etcdSpecDefinition, etcdMemberDefinition, etcdPKIStatusDefinition];
