import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { generateBundle } from '../../config/generate/config.js';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { KernelCmdline } from '../../platform/cmdline.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { HostnameSpecType } from '../../resources/network/hostname-spec.js';
import { NodeIdentityController } from '../cluster/node-identity.js';
import { addressHostname, HostnameConfigController, stableHostname } from './hostname-config.js';
import { HostnameSpecController } from './hostname-spec.js';
import { LayeredMergeController } from './layered-merge.js';

describe('the hostname pipeline', async () => {
  const bundle = await generateBundle({ clusterName: 'host', endpoint: 'https://10.5.0.2:6443' });
  const dir = mkdtempSync(join(tmpdir(), 'bronze-hostname-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names hosts as Talos does', () => {
    assert.equal(addressHostname('10.5.0.2'), 'talos-10-5-0-2');
    assert.equal(addressHostname('fd00::2'), 'talos-fd002');
    assert.match(stableHostname('nodeid'), /^talos-[0-9a-z]{3}-[0-9a-z]{3}$/);
    assert.equal(stableHostname('nodeid'), stableHostname('nodeid'));
    assert.notEqual(stableHostname('nodeid'), stableHostname('other'));
  });

  async function harness(cmdline?: KernelCmdline) {
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    for (const c of [new NodeIdentityController(dir), new HostnameConfigController(cmdline), new LayeredMergeController('network.HostnameMergeController', HostnameSpecType), new HostnameSpecController('container')]) rt.register(c);
    rt.start();
    const status = (pred: (s: { hostname: string; domainname: string }) => boolean) =>
      state.watchFor({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' }, (r) => r !== undefined && pred(r.spec as { hostname: string; domainname: string }));
    return { state, status, stop: () => rt.stop() };
  }

  it('auto: stable comes from the node identity, which stays the same across restarts; the config and the command line win', async () => {
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    let h = await harness();
    let stable: string;
    try {
      await h.state.create(newResource(cfgPtr, { text: bundle.worker.toString() }));
      await h.state.watchFor({ namespace: 'cluster', type: 'Identities.cluster.talos.dev', id: 'local' }, (r) => r !== undefined);
      const nodeId = (parse(readFileSync(join(dir, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId;
      assert.match(nodeId, /^[0-9A-Za-z]{40,44}$/);
      stable = stableHostname(nodeId);
      await h.status((s) => s.hostname === stable && s.domainname === '');
      await h.state.updateWithConflicts(cfgPtr, (r) => {
        (r.spec as { text: string }).text = bundle.worker.toString().replace(/^auto: stable$/m, 'hostname: web-1.example.org');
      });
      await h.status((s) => s.hostname === 'web-1' && s.domainname === 'example.org');
      // a legacy config without HostnameConfig: the address-based default
      await h.state.updateWithConflicts(cfgPtr, (r) => {
        (r.spec as { text: string }).text = bundle.worker.toString().replace(/^---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n/m, '');
      });
      await h.state.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'default' }, { addresses: ['10.5.0.7/24'], sortAlgorithm: 'v1' }));
      await h.status((s) => s.hostname === 'talos-10-5-0-7');
    } finally {
      await h.stop();
    }
    // a v1alpha1-era config asking for features.stableHostname gets the stable name
    h = await harness();
    try {
      const legacy = parse(bundle.worker.toString().split(/^---$/m)[0]!) as { machine: { features?: Record<string, unknown> } };
      legacy.machine.features = { ...legacy.machine.features, stableHostname: true };
      await h.state.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'default' }, { addresses: ['10.5.0.8/24'], sortAlgorithm: 'v1' }));
      await h.state.create(newResource(cfgPtr, { text: stringify(legacy) }));
      await h.status((s) => s.hostname === stable);
    } finally {
      await h.stop();
    }
    h = await harness(new KernelCmdline('talos.hostname=boot-1'));
    try {
      await h.status((s) => s.hostname === 'boot-1');
      await h.state.create(newResource(cfgPtr, { text: bundle.worker.toString() }));
      // the same identity as before: the cmdline layer beats the default
      await h.status((s) => s.hostname === 'boot-1');
    } finally {
      await h.stop();
    }
    assert.equal(stableHostname((parse(readFileSync(join(dir, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId), stable!);
  });

  it('without a config there is no hostname: the first one a node gets is the configured one', async () => {
    const h = await harness();
    const seen: string[] = [];
    const w = await h.state.watch({ namespace: 'network', type: 'HostnameStatuses.net.talos.dev', id: 'hostname' });
    const reading = (async () => {
      for await (const ev of w) {
        const spec = ev.resource?.spec as { hostname?: string } | undefined;
        if (spec?.hostname) seen.push(spec.hostname);
      }
    })();
    try {
      // an address before the config: Talos names no host from it until a config asks for it
      await h.state.create(newResource({ namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'default' }, { addresses: ['10.5.0.9/24'], sortAlgorithm: 'v1' }));
      await h.state.watchFor({ namespace: 'cluster', type: 'Identities.cluster.talos.dev', id: 'local' }, (r) => r !== undefined);
      await h.state.create(newResource({ namespace: 'config', type: MachineConfigType, id: ActiveID }, { text: bundle.worker.toString() }));
      const nodeId = (parse(readFileSync(join(dir, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId;
      await h.status((s) => s.hostname === stableHostname(nodeId));
      assert.deepEqual(seen.filter((n) => n === 'talos-10-5-0-9'), []);
    } finally {
      w.close();
      await reading;
      await h.stop();
    }
  });
});

