import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { NetworkNamespace } from '../../resources/namespaces.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../resources/network/hostname-status.js';
import { type HostnameSpecSpec, HostnameSpecType } from '../../resources/network/hostname-spec.js';

/**
 * `network.HostnameSpecController`: sets the merged hostname and domain name (metal: the kernel's, through
 * /proc/sys/kernel; the process platform keeps the host's and the name is the node's own) and reports it as
 * HostnameStatus.
 */
export class HostnameSpecController implements Controller {
  readonly name = 'network.HostnameSpecController';

  constructor(private readonly mode: 'metal' | 'container') {}

  inputs(): Input[] {
    return [{ namespace: NetworkNamespace, type: HostnameSpecType, id: HostnameID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: HostnameStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    let set: string | undefined;
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const spec = await r.getOptional<HostnameSpecSpec>({ namespace: NetworkNamespace, type: HostnameSpecType, id: HostnameID });
      if (spec) {
        const names = `${spec.spec.hostname}\0${spec.spec.domainname}`;
        if (this.mode === 'metal' && names !== set) {
          // the kernel's own settings (procfs, no disk behind them): written at once, not as requests to the
          // thread pool that each wait for a free thread and a turn of the event loop
          writeFileSync('/proc/sys/kernel/hostname', spec.spec.hostname);
          writeFileSync('/proc/sys/kernel/domainname', spec.spec.domainname || '(none)');
          set = names;
          log.info({ hostname: spec.spec.hostname, domainname: spec.spec.domainname }, 'setting hostname');
        }
        const status: HostnameStatusSpec = { hostname: spec.spec.hostname, domainname: spec.spec.domainname };
        await r.modify<HostnameStatusSpec>({ namespace: NetworkNamespace, type: HostnameStatusType, id: HostnameID }, () => status, (o) => {
          o.spec = status;
        });
      }
      await r.cleanupOutputs({ namespace: NetworkNamespace, type: HostnameStatusType });
    }
  }
}
