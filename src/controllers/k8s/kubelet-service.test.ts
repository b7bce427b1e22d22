import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActiveID, MachineConfigType } from '../../resources/config/machine-config.js';
import { KubeletID } from '../../resources/k8s/kubelet-config.js';
import { type KubeletSpecSpec, KubeletSpecType } from '../../resources/k8s/kubelet-spec.js';
import { ControllerTest } from '../ctest.js';
import { KubeletSecretsController } from '../secrets/kubelet.js';
import { type KubeletBootstrap, kubeletBootstrapOf, KubeletServiceController, type KubeletServiceHost } from './kubelet-service.js';

/** A kubelet service that records what it is asked to do, and says when it was. */
class FakeHost implements KubeletServiceHost {
  calls: string[] = [];
  files: { spec: KubeletSpecSpec; bootstrap: KubeletBootstrap }[] = [];
  private running = false;
  private waiters: (() => void)[] = [];

  async writeFiles(spec: KubeletSpecSpec, bootstrap: KubeletBootstrap): Promise<void> {
    this.files.push({ spec, bootstrap });
    this.record('write');
  }
  load(): void {
    this.record('load');
  }
  isRunning(): boolean {
    return this.running;
  }
  async stop(): Promise<void> {
    this.running = false;
    this.record('stop');
  }
  async start(): Promise<void> {
    this.running = true;
    this.record('start');
  }

  private record(call: string): void {
    this.calls.push(call);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits (bounded) until `n` calls were made. */
  async until(n: number): Promise<void> {
    const deadline = AbortSignal.timeout(5000);
    while (this.calls.length < n) {
      if (deadline.aborted) throw new Error(`expected ${n} calls, have ${JSON.stringify(this.calls)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        deadline.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
}

const config = (token: string) => `version: v1alpha1\nmachine:\n  type: worker\n  token: t\n  kubelet: {}\ncluster:\n  controlPlane:\n    endpoint: https://10.5.0.1:6443\n  token: ${token}\n  ca:\n    crt: Q0E=\n`;

describe('k8s.KubeletServiceController', () => {
  it('writes the files and starts the kubelet when its spec appears, and restarts it only when something it uses changes', async () => {
    const host = new FakeHost();
    const t = ControllerTest.start([new KubeletSecretsController(), new KubeletServiceController(host)]);
    try {
      const cfg = { namespace: 'config', type: MachineConfigType, id: ActiveID };
      const spec = { namespace: 'k8s', type: KubeletSpecType, id: KubeletID };
      const s: KubeletSpecSpec = { image: 'kubelet:v1', args: ['--v=1'], extraMounts: [], expectedNodename: 'n', config: { kind: 'KubeletConfiguration' } };
      await t.create(cfg, { text: config('abcdef.0123456789abcdef') });
      await t.create(spec, s);
      await host.until(3);
      assert.deepEqual(host.calls, ['write', 'load', 'start']);
      assert.deepEqual(host.files[0], { spec: s, bootstrap: { endpoint: 'https://10.5.0.1:6443', caCrt: Buffer.from('CA\n').toString('base64'), token: 'abcdef.0123456789abcdef' } });
      // a new spec: files again, stopped, started
      await t.update<KubeletSpecSpec>(spec, (x) => ({ ...x, args: ['--v=2'] }));
      await host.until(7);
      assert.deepEqual(host.calls.slice(3), ['write', 'load', 'stop', 'start']);
      assert.deepEqual(host.files[1]!.spec.args, ['--v=2']);
      // a config change the kubelet does not use changes nothing; a new bootstrap token restarts it
      await t.update<{ text: string }>(cfg, () => ({ text: config('abcdef.0123456789abcdef').replace('token: t', 'token: u') }));
      await t.update<{ text: string }>(cfg, () => ({ text: config('zzzzzz.0123456789abcdef') }));
      await host.until(11);
      assert.deepEqual(host.calls.slice(7), ['write', 'load', 'stop', 'start']);
      assert.equal(host.files[2]!.bootstrap.token, 'zzzzzz.0123456789abcdef');
    } finally {
      await t.stop();
    }
  });

  it('joins with the KubeletSecrets: the endpoint (KubePrism when on), every accepted CA in one bundle, id.secret', () => {
    const pem = (n: string) => Buffer.from(`-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----\n`).toString('base64');
    const b = kubeletBootstrapOf({ endpoint: 'https://127.0.0.1:7445', acceptedCAs: [{ crt: pem('A') }, { crt: pem('B') }], bootstrapTokenID: 'abcdef', bootstrapTokenSecret: '0123456789abcdef' });
    assert.equal(b.endpoint, 'https://127.0.0.1:7445');
    assert.equal(b.token, 'abcdef.0123456789abcdef');
    assert.equal(Buffer.from(b.caCrt, 'base64').toString(), '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n');
  });
});
