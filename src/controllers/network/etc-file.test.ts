import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { generateBundle } from '../../config/generate/config.js';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { KernelCmdline } from '../../platform/cmdline.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { ResolverID } from '../../resources/network/resolver-status.js';
import { type ResolverSpecSpec, ResolverSpecType } from '../../resources/network/resolver-spec.js';
import { FilesEtcFileController } from '../files/etc-file.js';
import { EtcFileController } from './etc-file.js';
import { ListMergeController } from './list-merge.js';
import { ResolverConfigController } from './resolver-config.js';
import { ResolverSpecController } from './resolver-spec.js';

describe('resolvers and /etc files', async () => {
  const bundle = await generateBundle({ clusterName: 'etc', endpoint: 'https://10.5.0.2:6443' });
  const dir = mkdtempSync(join(tmpdir(), 'bronze-etc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes hosts and resolv.conf from the hostname, the node address, the resolvers and the config, and follows changes', async () => {
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    for (const c of [
      new ResolverConfigController(new KernelCmdline('ip=10.0.0.5::10.0.0.1:255.255.255.0:node:eth0:off:10.0.0.53')),
      new ListMergeController<ResolverSpecSpec>('network.ResolverMergeController', ResolverSpecType, ResolverID, ['dnsServers']),
      new ResolverSpecController(),
      new EtcFileController('metal'),
      new FilesEtcFileController(dir),
    ]) {
      rt.register(c);
    }
    rt.start();
    const status = (id: string, pred: (text: string) => boolean) =>
      state.watchFor({ namespace: 'files', type: 'EtcFileStatuses.files.talos.dev', id }, (r) => r !== undefined && pred(readFileSync(join(dir, id), 'utf8')));
    try {
      await status('resolv.conf', (t) => t === 'nameserver 10.0.0.53\n');
      await status('hosts', (t) => t === '127.0.0.1 localhost\n::1       localhost ip6-localhost ip6-loopback\nff02::1   ip6-allnodes\nff02::2   ip6-allrouters\n');
      assert.equal(statSync(join(dir, 'hosts')).mode & 0o777, 0o644);

      await state.create(newResource({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, { hostname: 'cp-1', domainname: 'example.org' }));
      await state.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'default' }, { addresses: ['10.0.0.5/24'], sortAlgorithm: 'v1' }));
      const config = bundle.worker
        .toString()
        .replace(/^machine:\n/m, 'machine:\n    network:\n        nameservers: [192.0.2.53, 192.0.2.54, 192.0.2.55, 192.0.2.56]\n        searchDomains: [example.org, corp.example]\n        extraHostEntries:\n            - ip: 192.0.2.100\n              aliases: [registry.local]\n');
      await state.create(newResource({ namespace: 'config', type: MachineConfigType, id: ActiveID }, { text: config }));
      await status('resolv.conf', (t) => t === 'nameserver 192.0.2.53\nnameserver 192.0.2.54\nnameserver 192.0.2.55\n\nsearch example.org corp.example\n');
      await status('hosts', (t) =>
        t ===
        [
          '127.0.0.1   localhost',
          '10.0.0.5    cp-1.example.org cp-1',
          '::1         localhost ip6-localhost ip6-loopback',
          'ff02::1     ip6-allnodes',
          'ff02::2     ip6-allrouters',
          '192.0.2.100 registry.local',
          '',
        ].join('\n'),
      );
    } finally {
      await rt.stop();
    }
  });
});
