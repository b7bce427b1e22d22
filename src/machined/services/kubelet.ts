import { type ServiceDefinition, waitForAll } from '../supervisor/index.js';
import { networkReadyCondition, timeSyncCondition } from './conditions.js';
import type { ServiceContext } from './context.js';

/**
 * `kubelet`: after the CRI containerd is up, waits for synced time and a network with addresses, hostname and /etc
 * files. The API may start and restart it (as on Talos).
 */
export function kubeletService(ctx: ServiceContext): ServiceDefinition {
  return {
    id: 'kubelet',
    dependsOn: ['cri'],
    condition: waitForAll(timeSyncCondition(ctx.state), networkReadyCondition(ctx.state, 'addressReady', 'hostnameReady', 'etcFilesReady')),
    runner: () => {
      throw new Error('the kubelet cannot be run by this node: it runs as a container image through the CRI, and that integration is missing');
    },
    api: { start: true, restart: true },
  };
}
