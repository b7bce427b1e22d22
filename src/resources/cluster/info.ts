import { InfoSpec as PB } from '../../api/gen/resource/definitions/cluster/cluster.js';
import { define } from '../codec.js';
import { ClusterNamespace } from '../namespaces.js';

export const InfoType = 'Infos.cluster.talos.dev';
export const InfoID = 'current';

/** The cluster this node belongs to: `cluster.id` and `cluster.clusterName` of the config. */
export interface InfoSpec {
  clusterId: string;
  clusterName: string;
}

export const infoDefinition = define<InfoSpec, PB>(
  {
    type: InfoType,
    defaultNamespace: ClusterNamespace,
    printColumns: [
      { name: 'Cluster ID', jsonPath: '{.clusterId}' },
      { name: 'Cluster Name', jsonPath: '{.clusterName}' },
    ],
  },
  PB,
  (s) => s,
);
