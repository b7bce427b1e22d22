import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { generateBundle } from '../../config/generate/config.js';
import { ControllerRuntime } from '../../cosi/controller/runtime.js';
import { InMemoryState } from '../../cosi/inmem.js';
import { newResource } from '../../cosi/resource.js';
import { State } from '../../cosi/state.js';
import { KernelCmdline } from '../../platform/cmdline.js';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { TimeServerID, TimeServerStatusType } from '../../resources/network/time-server-status.js';
import { TimeStatusID, type TimeStatusSpec, TimeStatusType } from '../../resources/time/time-status.js';
import { TimeServerConfigController } from '../network/time-server-config.js';
import { TimeServerMergeController } from '../network/time-server-merge.js';
import { TimeServerSpecController } from '../network/time-server-spec.js';
import { querySNTP, writeTimestamp } from './sntp-client.js';
import { type SyncOptions, SyncController } from './time-status.js';

/** An NTP responder on loopback whose clock runs `skewMs` ahead, or stays silent. */
class Responder {
  socket: Socket = createSocket('udp4');
  port = 0;
  skewMs = 0;
  silent = false;
  async start(): Promise<void> {
    this.socket.on('message', (msg, rinfo) => {
      if (this.silent) return;
      const reply = Buffer.alloc(48);
      reply[0] = (4 << 3) | 4;
      reply[1] = 2;
      Buffer.from([127, 0, 0, 1]).copy(reply, 12);
      const t = Date.now() + this.skewMs;
      writeTimestamp(reply, 16, t - 1000);
      msg.copy(reply, 24, 40, 48);
      writeTimestamp(reply, 32, t);
      writeTimestamp(reply, 40, t);
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.port = this.socket.address().port;
  }
}

describe('time servers and time sync', async () => {
  const bundle = await generateBundle({ clusterName: 'time', endpoint: 'https://10.5.0.2:6443' });
  const responder = new Responder();
  before(() => responder.start());
  after(() => responder.socket.close());

  const cfgPtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
  const tsPtr = { namespace: 'network', type: TimeServerStatusType, id: TimeServerID };
  const statusPtr = { namespace: 'runtime', type: TimeStatusType, id: TimeStatusID };
  const servers = (r: unknown) => (r as { spec: { timeServers: string[] } } | undefined)?.spec.timeServers.join(',');
  const status = (r: unknown) => (r as { spec: TimeStatusSpec } | undefined)?.spec;
  const withTime = (time: string) => bundle.worker.toString().replace(/^machine:\n/m, `machine:\n    time:\n${time}`);

  async function harness(sync: SyncOptions, cmdline?: KernelCmdline) {
    const state = new State(new InMemoryState());
    const rt = new ControllerRuntime(state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    for (const c of [new TimeServerConfigController(cmdline), new TimeServerMergeController(), new TimeServerSpecController(), new SyncController(sync)]) rt.register(c);
    rt.start();
    return { state, stop: () => rt.stop() };
  }

  it('servers come from the config over the kernel command line over the default; the process platform does not sync', async () => {
    const { state, stop } = await harness({ mode: 'container' }, new KernelCmdline('ip=10.0.0.5::10.0.0.1:255.255.255.0:node:eth0:off:1.1.1.1::10.0.0.123'));
    try {
      await state.watchFor(tsPtr, (r) => servers(r) === '10.0.0.123');
      assert.deepEqual(status(await state.watchFor(statusPtr, (r) => r !== undefined)), { synced: true, epoch: 0, syncDisabled: true });
      await state.create(newResource(cfgPtr, { text: withTime('        servers: [a.example, b.example]\n') }));
      await state.watchFor(tsPtr, (r) => servers(r) === 'a.example,b.example');
      await state.destroy(cfgPtr);
      await state.watchFor(tsPtr, (r) => servers(r) === '10.0.0.123');
    } finally {
      await stop();
    }
  });

  it('without a command line or config: time.cloudflare.com', async () => {
    const { state, stop } = await harness({ mode: 'container' });
    try {
      await state.watchFor(tsPtr, (r) => servers(r) === 'time.cloudflare.com');
    } finally {
      await stop();
    }
  });

  it('on metal: a clock that is off is stepped (epoch 1), then the time is synced', { timeout: 20_000 }, async () => {
    responder.silent = false;
    responder.skewMs = 5000;
    const steps: number[] = [];
    const { state, stop } = await harness({ mode: 'metal', adjustClock: (ms) => steps.push(ms), query: (server, signal) => querySNTP(server, { port: responder.port, signal, timeoutMs: 1000 }) });
    try {
      await state.create(newResource(cfgPtr, { text: withTime('        servers: [127.0.0.1]\n') }));
      const s = status(await state.watchFor(statusPtr, (r) => status(r)?.synced === true))!;
      assert.deepEqual(s, { synced: true, epoch: 1, syncDisabled: false });
      assert.equal(steps.length, 1);
      assert.ok(Math.abs(steps[0]! - 5000) < 200, `stepped by ${steps[0]}`);
    } finally {
      await stop();
    }
  });

  it('on metal: a server that never answers does not hold boot past the boot timeout', { timeout: 20_000 }, async () => {
    responder.silent = true;
    const { state, stop } = await harness({ mode: 'metal', adjustClock: () => assert.fail('no answer, no step'), query: (server, signal) => querySNTP(server, { port: responder.port, signal, timeoutMs: 200 }) });
    try {
      await state.create(newResource(cfgPtr, { text: withTime('        servers: [127.0.0.1]\n        bootTimeout: 500ms\n') }));
      assert.deepEqual(status(await state.watchFor(statusPtr, (r) => r !== undefined)), { synced: false, epoch: 0, syncDisabled: false });
      assert.deepEqual(status(await state.watchFor(statusPtr, (r) => status(r)?.synced === true)), { synced: true, epoch: 0, syncDisabled: false });
    } finally {
      await stop();
    }
  });

  it('on metal, the config can disable sync', async () => {
    const { state, stop } = await harness({ mode: 'metal' });
    try {
      await state.create(newResource(cfgPtr, { text: withTime('        disabled: true\n') }));
      assert.deepEqual(status(await state.watchFor(statusPtr, (r) => status(r)?.syncDisabled === true)), { synced: true, epoch: 0, syncDisabled: true });
    } finally {
      await stop();
    }
  });

  it('on metal: a small offset is slewed, not stepped', { timeout: 20_000 }, async () => {
    responder.silent = false;
    responder.skewMs = 50;
    const slews: number[] = [];
    const { state, stop } = await harness({ mode: 'metal', adjustClock: () => assert.fail('a small offset is not stepped'), slewClock: (ms) => slews.push(ms), query: (server, signal) => querySNTP(server, { port: responder.port, signal, timeoutMs: 1000 }) });
    try {
      await state.create(newResource(cfgPtr, { text: withTime('        servers: [127.0.0.1]\n') }));
      assert.deepEqual(status(await state.watchFor(statusPtr, (r) => status(r)?.synced === true)), { synced: true, epoch: 0, syncDisabled: false });
      assert.equal(slews.length, 1);
      assert.ok(Math.abs(slews[0]! - 50) < 40, `slewed by ${slews[0]}`);
    } finally {
      await stop();
    }
  });
});
