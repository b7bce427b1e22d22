/** Talos's namespaces and what each holds (registered as `Namespaces.meta.cosi.dev` resources). */
export const ConfigNamespace = 'config';
export const NetworkNamespace = 'network';
export const NetworkConfigNamespace = 'network-config';
export const RuntimeNamespace = 'runtime';
export const SecretsNamespace = 'secrets';
export const EtcdNamespace = 'etcd';
export const K8sNamespace = 'k8s';
export const ControlPlaneNamespace = 'controlplane';
export const ClusterNamespace = 'cluster';
export const FilesNamespace = 'files';
export const HardwareNamespace = 'hardware';
export const CRINamespace = 'cri';

export const namespaces: readonly (readonly [string, string])[] = [
  [RuntimeNamespace, 'Talos runtime resources: services, kernel settings, time and machine status.'],
  [ClusterNamespace, 'Cluster membership and discovery.'],
  ['cluster-raw', 'Raw cluster discovery data, before merging.'],
  [ConfigNamespace, 'Node configuration: the machine config and what is derived from it.'],
  [EtcdNamespace, 'etcd resources.'],
  [FilesNamespace, 'Files under /etc managed by the node.'],
  [HardwareNamespace, 'Hardware inventory.'],
  [K8sNamespace, 'Kubernetes resources shared by all node types.'],
  [ControlPlaneNamespace, 'Kubernetes control plane resources.'],
  ['kubespan', 'KubeSpan resources.'],
  [NetworkNamespace, 'Networking state and final specs.'],
  [NetworkConfigNamespace, 'Layered networking configuration, before merging.'],
  [CRINamespace, 'CRI resources: seccomp profiles, registries, image cache.'],
  ['containers', 'Containers managed by the node.'],
  [SecretsNamespace, 'Secret material: certificates, keys, tokens.'],
  ['security', 'Image verification resources.'],
  ['perf', 'CPU and memory statistics.'],
  ['storage', 'LVM and software RAID.'],
];
