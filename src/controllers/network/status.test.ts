import { describe, it } from 'node:test';
import pino from 'pino';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { NetworkStatusID, type NetworkStatusSpec, NetworkStatusType } from '../../resources/network/status.js';
import { NetworkStatusController } from './status.js';

describe('network Status', () => {
  it('follows node addresses, hostname, /etc files, probes and default routes as they come and go', async () => {
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new NetworkStatusController('metal'));
    rt.start();
    const ptr = { namespace: 'network', type: NetworkStatusType, id: NetworkStatusID };
    const is = (want: NetworkStatusSpec) => state.watchFor(ptr, (r) => JSON.stringify(r?.spec) === JSON.stringify(want));
    try {
      await is({ addressReady: false, connectivityReady: false, hostnameReady: false, etcFilesReady: false });
      await state.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'current' }, { addresses: ['10.5.0.2/24'], sortAlgorithm: 'v1' }));
      await state.create(newResource({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { hostname: 'cp-1', domainname: '' }));
      await is({ addressReady: true, connectivityReady: false, hostnameReady: true, etcFilesReady: false });
      await state.create(newResource({ namespace: 'files', type: 'EtcFileStatuses.files.talos.dev', id: 'hosts' }, { specVersion: '1' }));
      await state.create(newResource({ namespace: 'files', type: 'EtcFileStatuses.files.talos.dev', id: 'resolv.conf' }, { specVersion: '1' }));
      await state.create(newResource({ namespace: 'network', type: 'RouteStatuses.net.talos.dev', id: 'inet4/10.5.0.1//1024' }, { destination: '', gateway: '10.5.0.1' }));
      await is({ addressReady: true, connectivityReady: true, hostnameReady: true, etcFilesReady: true });
      // with probes, connectivity is what the probes say
      await state.create(newResource({ namespace: 'network', type: 'ProbeStatuses.net.talos.dev', id: 'tcp:proxy:3128' }, { success: false }));
      await is({ addressReady: true, connectivityReady: false, hostnameReady: true, etcFilesReady: true });
      await state.destroy({ namespace: 'files', type: 'EtcFileStatuses.files.talos.dev', id: 'resolv.conf' });
      await state.destroy({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'current' });
      await is({ addressReady: false, connectivityReady: false, hostnameReady: true, etcFilesReady: false });
    } finally {
      await rt.stop();
    }
  });
});
