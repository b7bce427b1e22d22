import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { nodeResults } from '../../src/client/results.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { type RunningMachined, startMachined } from '../../src/machined/main.js';
import { stableHostname } from '../../src/controllers/network/hostname-config.js';
import { parse as parseYAML } from 'yaml';
import { freePort } from '../helpers/ports.js';

const root = new URL('../..', import.meta.url).pathname;
const CP = '127.77.4.2';
const WORKER = '127.77.4.3';
const cmd = (role: string) => [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), role];

/**
 * A control plane and a worker on the process platform: the worker gets its apid certificate from the control
 * plane's trustd, and the control plane's apid fans calls out to both.
 */
describe('a process cluster of a control plane and a worker', () => {
  let dir: string;
  const nodes: RunningMachined[] = [];
  let client: Client;
  const ac = new AbortController();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-cluster-'));
    const apiPort = await freePort(CP);
    const trustdPort = await freePort(CP);
    const bundle = await generateBundle({ clusterName: 'duo', endpoint: `https://${CP}:6443`, discovery: false });
    for (const [name, address, config] of [
      ['cp', CP, bundle.controlplane],
      ['worker', WORKER, bundle.worker],
    ] as const) {
      const stateDir = join(dir, name);
      mkdirSync(stateDir);
      new ConfigStore(stateDir).write(Buffer.from(config.toString()));
      nodes.push(
        await startMachined({ stateDir, address, apiPort, trustdPort, apidCommand: cmd('apid'), trustdCommand: cmd('trustd'), signal: ac.signal }),
      );
    }
    await nodes[0]!.waitForLog('apid', 'apid serving', 30_000);
    await nodes[1]!.waitForLog('apid', 'apid serving', 60_000);
    client = new Client(clientOptionsFromContext(bundle.talosconfig.contexts.duo!, { endpoints: [`${CP}:${apiPort}`] }));
  });

  after(async () => {
    client?.close();
    ac.abort();
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers Version from both nodes through the control plane', async () => {
    const r = nodeResults(await client.machine.version({}, { nodes: [CP, WORKER], timeout: 15_000 }));
    assert.deepEqual(r.errors.map((e) => e.message), []);
    assert.deepEqual(r.messages.map((m) => m.node), [CP, WORKER]);
    const h = nodeResults(await client.machine.hostname({}, { nodes: [CP, WORKER], timeout: 15_000 }));
    assert.deepEqual(h.messages.map((m) => m.value.hostname), ['cp', 'worker'].map((n) => stableHostname((parseYAML(readFileSync(join(dir, n, 'node-identity.yaml'), 'utf8')) as { nodeId: string }).nodeId)));
  });

  it('proxies one-to-one to the worker', async () => {
    const s = await client.machine.serviceList({}, { node: WORKER, timeout: 15_000 });
    assert.deepEqual(s.messages[0]!.services.map((x) => x.id), ['apid', 'containerd', 'cri', 'kubelet', 'machined', 'udevd']);
  });
});
