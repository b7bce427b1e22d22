import { EtcdNamespace } from '../../resources/namespaces.js';
import { type ServiceDefinition, waitForAll } from '../supervisor/index.js';
import { networkReadyCondition, resourceCondition, timeSyncCondition } from './conditions.js';
import type { ServiceContext } from './context.js';

export const EtcdSpecType = 'EtcdSpecs.etcd.talos.dev';
export const EtcdSpecID = 'etcd';

/**
 * `etcd` (control planes): after the CRI containerd is up, waits for synced time, a network with addresses, hostname
 * and /etc files, and the etcd spec (name, addresses, image) that the etcd controllers derive from the config.
 */
export function etcdService(ctx: ServiceContext): ServiceDefinition {
  return {
    id: 'etcd',
    dependsOn: ['cri'],
    condition: waitForAll(
      timeSyncCondition(ctx.state),
      networkReadyCondition(ctx.state, 'addressReady', 'hostnameReady', 'etcFilesReady'),
      resourceCondition(ctx.state, { namespace: EtcdNamespace, type: EtcdSpecType, id: EtcdSpecID }, 'etcd spec', (s) => s !== undefined),
    ),
    runner: () => {
      // reached only once an etcd spec exists, which nothing writes before the etcd integration
      throw new Error('etcd cannot be run by this node: the etcd integration (its certificates, data directory and runner) is missing');
    },
    api: { restart: true },
  };
}
