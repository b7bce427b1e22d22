import { IdentitySpec as PB } from '../../api/gen/resource/definitions/cluster/cluster.js';
import { define } from '../codec.js';
import { ClusterNamespace } from '../namespaces.js';

export const IdentityType = 'Identities.cluster.talos.dev';
export const LocalIdentity = 'local';

/** The node's identity: a random id made once and kept in STATE (`node-identity.yaml`). */
export interface IdentitySpec {
  nodeId: string;
}

export const identityDefinition = define<IdentitySpec, PB>(
  { type: IdentityType, defaultNamespace: ClusterNamespace, printColumns: [{ name: 'ID', jsonPath: '{.nodeId}' }] },
  PB,
  (s) => ({ nodeId: s.nodeId }),
);
