import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import { NodeAddressAccumulativeID, NodeAddressCurrentID, NodeAddressDefaultID, NodeAddressRoutedID, type NodeAddressSpec, NodeAddressType } from '../../resources/network/node-address.js';

/**
 * NodeAddresses on the process platform: the node's address is the loopback address it was given (its links are
 * the host's and are not configured), so `current`, `routed`, `accumulative` and `default` all hold that address.
 */
export class ProcessNodeAddressController implements Controller {
  readonly name = 'network.NodeAddressController';

  constructor(private readonly address: string) {}

  inputs(): Input[] {
    return [];
  }

  outputs(): Output[] {
    return [{ type: NodeAddressType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, _log: Logger): Promise<void> {
    const prefix = `${this.address}/${this.address.includes(':') ? 128 : 32}`;
    for await (const _ of r.events()) {
      for (const id of [NodeAddressDefaultID, NodeAddressCurrentID, NodeAddressRoutedID, NodeAddressAccumulativeID]) {
        await r.modify<NodeAddressSpec>({ namespace: NetworkNamespace, type: NodeAddressType, id }, () => ({ addresses: [], sortAlgorithm: 'v1' }), (o) => {
          o.spec = { addresses: [prefix], sortAlgorithm: 'v1' };
        });
      }
    }
  }
}
