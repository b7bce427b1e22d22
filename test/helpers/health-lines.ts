/** The lines of a server-side `health` that end in OK on a process cluster (one control plane with etcd), in order. */
export const SERVER_HEALTH_OK_LINES = [
  'waiting for etcd to be healthy: OK',
  'waiting for etcd members to be consistent across nodes: OK',
  'waiting for etcd members to be control plane nodes: OK',
  'waiting for apid to be ready: OK',
  'waiting for all nodes memory sizes: OK',
  'waiting for all nodes disk sizes: OK',
  'waiting for all nodes to finish boot sequence: OK',
  'waiting for time to be synced: OK',
];
