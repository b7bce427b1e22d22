import { linkStatusDefinition } from './network/link-status.js';
import { routeStatusDefinition } from './network/route-status.js';
import { linkSpecDefinition } from './network/link-spec.js';
import { routeSpecDefinition } from './network/route-spec.js';
import { etcFileSpecDefinition } from './files/etc-file-spec.js';
import { etcFileStatusDefinition } from './files/etc-file-status.js';
import { affiliateDefinition } from './cluster/affiliate.js';
import { discoveryConfigDefinition } from './cluster/discovery-config.js';
import { identityDefinition } from './cluster/identity.js';
import { infoDefinition } from './cluster/info.js';
import { memberDefinition } from './cluster/member.js';
import { metaKeyDefinition } from './runtime/meta-key.js';
import { etcdRootDefinition } from './secrets/etcd-root.js';
import { etcdSecretsDefinition } from './secrets/etcd-secrets.js';
import { etcdDefinitions } from './etcd/index.js';
import { k8sDefinitions } from './k8s/index.js';
import { operatorSpecDefinition } from './network/operator-spec.js';
import { kubeletSecretsDefinition } from './secrets/kubelet.js';
import { kubernetesRootDefinition } from './secrets/kubernetes-root.js';
import { machineResetSignalDefinition } from './runtime/machine-reset-signal.js';
import { maintenanceServiceConfigDefinition, maintenanceServiceRequestDefinition } from './runtime/maintenance.js';
import { kernelParamDefaultSpecDefinition, kernelParamSpecDefinition, kernelParamStatusDefinition } from './runtime/kernel-param.js';
import type { ResourceDefinition } from '../cosi/definition.js';
import type { Registry } from '../cosi/registry.js';
import { machineConfigDefinition } from './config/machine-config.js';
import { machineTypeDefinition } from './config/machine-type.js';
import { namespaces } from './namespaces.js';
import { addressSpecDefinition } from './network/address-spec.js';
import { addressStatusDefinition } from './network/address-status.js';
import { hostnameSpecDefinition } from './network/hostname-spec.js';
import { hostnameStatusDefinition } from './network/hostname-status.js';
import { nodeAddressDefinition } from './network/node-address.js';
import { resolverSpecDefinition } from './network/resolver-spec.js';
import { resolverStatusDefinition } from './network/resolver-status.js';
import { networkStatusDefinition } from './network/status.js';
import { timeServerSpecDefinition } from './network/time-server-spec.js';
import { timeServerStatusDefinition } from './network/time-server-status.js';
import { apiServiceConfigDefinition } from './runtime/api-service-config.js';
import { machineStatusDefinition } from './runtime/machine-status.js';
import { apiCertificatesDefinition } from './secrets/api-certificates.js';
import { certSANDefinition } from './secrets/cert-sans.js';
import { maintenanceRootDefinition } from './secrets/maintenance-root.js';
import { osRootDefinition } from './secrets/os-root.js';
import { trustdCertificatesDefinition } from './secrets/trustd-certificates.js';
import { timeStatusDefinition } from './time/time-status.js';
import { serviceDefinition } from './v1alpha1/service.js';
import { diskDefinition } from './block/disk.js';

/** Every Talos resource type Bronze serves. */
export const definitions: readonly ResourceDefinition<never>[] = [
  machineConfigDefinition,
  machineTypeDefinition,
  addressSpecDefinition,
  addressStatusDefinition,
  hostnameSpecDefinition,
  hostnameStatusDefinition,
  nodeAddressDefinition,
  resolverSpecDefinition,
  resolverStatusDefinition,
  networkStatusDefinition,
  timeServerSpecDefinition,
  timeServerStatusDefinition,
  apiServiceConfigDefinition,
  machineStatusDefinition,
  apiCertificatesDefinition,
  certSANDefinition,
  osRootDefinition,
  trustdCertificatesDefinition,
  timeStatusDefinition,
  serviceDefinition,
  linkStatusDefinition,
  routeStatusDefinition,
  linkSpecDefinition,
  routeSpecDefinition,
  etcFileSpecDefinition,
  etcFileStatusDefinition,
  identityDefinition,
  affiliateDefinition,
  discoveryConfigDefinition,
  infoDefinition,
  memberDefinition,
  kernelParamSpecDefinition,
  kernelParamDefaultSpecDefinition,
  kernelParamStatusDefinition,
  metaKeyDefinition,
  maintenanceServiceConfigDefinition,
  maintenanceServiceRequestDefinition,
  machineResetSignalDefinition,
  etcdRootDefinition,
  kubeletSecretsDefinition,
  kubernetesRootDefinition,
  operatorSpecDefinition,
  etcdSecretsDefinition,
  maintenanceRootDefinition,
  diskDefinition,
  ...etcdDefinitions,
  ...k8sDefinitions,
] as readonly ResourceDefinition<never>[];

/** Registers Talos's namespaces and resource types in a registry. */
export async function registerAll(registry: Registry): Promise<void> {
  await registry.init();
  for (const [name, description] of namespaces) await registry.registerNamespace(name, description);
  for (const d of definitions) await registry.register(d);
}
