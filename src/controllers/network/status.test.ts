import { describe, it } from 'node:test';
import { NetworkStatusID, type NetworkStatusSpec, NetworkStatusType } from '../../resources/network/status.js';
import { ControllerTest } from '../ctest.js';
import { NetworkStatusController } from './status.js';

describe('network Status', () => {
  it('follows node addresses, hostname, /etc files, probes and default routes as they come and go', async () => {
    const t = ControllerTest.start([new NetworkStatusController('metal')]);
    const is = (want: NetworkStatusSpec) => t.expect<NetworkStatusSpec>({ namespace: 'network', type: NetworkStatusType, id: NetworkStatusID }, (s) => JSON.stringify(s) === JSON.stringify(want));
    const net = (type: string, id: string) => ({ namespace: 'network', type, id });
    const files = (id: string) => ({ namespace: 'files', type: 'EtcFileStatuses.files.talos.dev', id });
    try {
      await is({ addressReady: false, connectivityReady: false, hostnameReady: false, etcFilesReady: false });
      await t.create(net('NodeAddresses.net.talos.dev', 'current'), { addresses: ['10.5.0.2/24'], sortAlgorithm: 'v1' });
      await t.create(net('HostnameStatuses.net.talos.dev', 'hostname'), { hostname: 'cp-1', domainname: '' });
      await is({ addressReady: true, connectivityReady: false, hostnameReady: true, etcFilesReady: false });
      await t.create(files('hosts'), { specVersion: '1' });
      await t.create(files('resolv.conf'), { specVersion: '1' });
      await t.create(net('RouteStatuses.net.talos.dev', 'inet4/10.5.0.1//1024'), { dst: '', gateway: '10.5.0.1' });
      await is({ addressReady: true, connectivityReady: true, hostnameReady: true, etcFilesReady: true });
      // with probes, connectivity is what the probes say
      await t.create(net('ProbeStatuses.net.talos.dev', 'tcp:proxy:3128'), { success: false });
      await is({ addressReady: true, connectivityReady: false, hostnameReady: true, etcFilesReady: true });
      await t.destroy(files('resolv.conf'));
      await t.destroy(net('NodeAddresses.net.talos.dev', 'current'));
      await is({ addressReady: false, connectivityReady: false, hostnameReady: true, etcFilesReady: false });
    } finally {
      await t.stop();
    }
  });
});
