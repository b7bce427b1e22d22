import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { generateBundle } from '../../config/generate/config.js';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { kernelParamPath } from '../../resources/runtime/kernel-param.js';
import { KernelParamConfigController } from './kernel-param-config.js';
import { KernelParamSpecController } from './kernel-param-spec.js';

describe('kernel parameters', async () => {
  const bundle = await generateBundle({ clusterName: 'sysctl', endpoint: 'https://10.5.0.2:6443' });
  const dir = mkdtempSync(join(tmpdir(), 'bronze-sysctl-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const put = (key: string, value: string) => {
    const p = join(dir, kernelParamPath(key));
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, `${value}\n`);
  };

  it('maps keys to /proc/sys paths', () => {
    assert.equal(kernelParamPath('net.ipv4.ip_forward'), 'net/ipv4/ip_forward');
    assert.equal(kernelParamPath('net/ipv6/conf/eth0.100/disable_ipv6'), 'net/ipv6/conf/eth0.100/disable_ipv6');
  });

  it('sets the config’s sysctls, reports them, and puts the old values back when they are dropped', async () => {
    put('net.ipv4.ip_forward', '0');
    put('net/ipv6/conf/eth0.100/disable_ipv6', '0');
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new KernelParamConfigController());
    rt.register(new KernelParamSpecController({ apply: true, procSys: dir }));
    rt.start();
    const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
    const status = (id: string, pred: (s: { current: string; default: string; unsupported: boolean } | undefined) => boolean) =>
      state.watchFor({ namespace: 'runtime', type: 'KernelParamStatuses.runtime.talos.dev', id }, (r) => pred(r?.spec as never));
    try {
      const text = bundle.worker.toString().replace(/^machine:\n/m, "machine:\n    sysctls:\n        net.ipv4.ip_forward: \"1\"\n        net/ipv6/conf/eth0.100/disable_ipv6: \"1\"\n        kernel.nothere: \"1\"\n");
      await state.create(newResource(cfgPtr, { text }));
      await status('net.ipv4.ip_forward', (s) => s?.current === '1' && s.default === '0');
      await status('net/ipv6/conf/eth0.100/disable_ipv6', (s) => s?.current === '1');
      await status('kernel.nothere', (s) => s?.unsupported === true);
      assert.equal(readFileSync(join(dir, 'net/ipv4/ip_forward'), 'utf8'), '1');
      assert.equal(readFileSync(join(dir, 'net/ipv6/conf/eth0.100/disable_ipv6'), 'utf8'), '1');
      await state.updateWithConflicts(cfgPtr, (r) => {
        (r.spec as { text: string }).text = bundle.worker.toString();
      });
      await status('net.ipv4.ip_forward', (s) => s === undefined);
      assert.equal(readFileSync(join(dir, 'net/ipv4/ip_forward'), 'utf8'), '0');
      assert.equal(readFileSync(join(dir, 'net/ipv6/conf/eth0.100/disable_ipv6'), 'utf8'), '0');
    } finally {
      await rt.stop();
    }
  });

  it('on the process platform only reports what the kernel has', async () => {
    put('net.ipv4.ip_forward', '1');
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    rt.register(new KernelParamConfigController());
    rt.register(new KernelParamSpecController({ apply: false, procSys: dir }));
    rt.start();
    try {
      await state.create(newResource({ namespace: 'config', type: MachineConfigType, id: ActiveID }, { text: bundle.worker.toString().replace(/^machine:\n/m, 'machine:\n    sysctls:\n        net.ipv4.ip_forward: "0"\n') }));
      const s = await state.watchFor({ namespace: 'runtime', type: 'KernelParamStatuses.runtime.talos.dev', id: 'net.ipv4.ip_forward' }, (r) => r !== undefined);
      assert.deepEqual(s!.spec, { current: '1', default: '1', unsupported: false });
      assert.equal(readFileSync(join(dir, 'net/ipv4/ip_forward'), 'utf8'), '1\n');
    } finally {
      await rt.stop();
    }
  });
});
