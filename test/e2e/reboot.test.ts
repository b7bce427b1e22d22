import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { quietIPServerNameWarning } from '../../src/client/index.js';
import { bronzectl } from '../helpers/bronzectl.js';
import { BOOT_DEADLINE_MS, serialTail, startVM, unavailable, untilAnswer, untilSerial, type VM } from './helpers/vm.js';

quietIPServerNameWarning();

const GUEST = '10.0.2.15';
const HOSTNAME = 'e2e-reboot';
/** mkfs.xfs makes nothing under 300 MiB; the file is sparse */
const DISK_BYTES = 320 * 1024 * 1024;
/** the steps once the node answers: each read or get */
const STEP_MS = 120_000;

function skipReason(): string | undefined {
  const vm = unavailable('amd64', 'kernel');
  if (vm) return vm;
  if (process.env.BRONZE_E2E !== 'required' && spawnSync('mkfs.xfs', ['-V']).error) return 'mkfs.xfs is not installed (xfsprogs; make image-deps)';
  return undefined;
}

/** A raw disk whose whole is an XFS filesystem labelled STATE, as the node looks for it. */
function stateDisk(path: string): void {
  writeFileSync(path, '');
  truncateSync(path, DISK_BYTES);
  const r = spawnSync('mkfs.xfs', ['-q', '-L', 'STATE', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, `mkfs.xfs: ${r.stderr}`);
}

/** The GETs of the config the config server answered. */
const configGets = (work: string) => readFileSync(join(work, 'config-http.log'), 'utf8').split('\n').filter((l) => l.includes('GET /config.yaml 200')).length;

describe('reboot on metal with a STATE disk (QEMU, TCG)', () => {
  it(
    'amd64: bronzectl reboot restarts the guest in place; the second boot takes its config and identity from the STATE disk without downloading it',
    { skip: skipReason(), timeout: 2 * BOOT_DEADLINE_MS.amd64 + 5 * STEP_MS },
    async (t: TestContext) => {
      const work = mkdtempSync(join(tmpdir(), 'bronze-e2e-reboot-'));
      let vm: VM | undefined;
      try {
        const disk = join(work, 'state.raw');
        stateDisk(disk);
        const patch = JSON.stringify({ machine: { network: { hostname: HOSTNAME }, time: { disabled: true } } });
        const gen = await bronzectl(['gen', 'config', 'bronze-e2e', `https://${GUEST}:6443`, '-o', work, '--with-docs=false', '--with-examples=false', '--config-patch', patch], { HOME: work });
        assert.equal(gen.code, 0, gen.stderr);
        const config = join(work, 'controlplane.yaml');
        vm = await startVM('amd64', 'kernel', work, ['--config', config, '--disk', disk]);
        const node = vm;
        /** bronzectl against the guest over mTLS; the output, or a throw with its error */
        const ctl = async (...args: string[]) => {
          const r = await bronzectl(['--talosconfig', join(work, 'talosconfig'), '-e', node.api, '-n', GUEST, ...args], { HOME: work });
          if (r.code !== 0) throw new Error(`bronzectl ${args.join(' ')}: ${r.stderr.trim()}`);
          return r.stdout;
        };
        const answered = (what: string, deadline: number, ...args: string[]) => untilAnswer(node, () => ctl(...args), deadline, what);

        // the first boot: the config comes from the config server and is written to STATE
        const bootId1 = (await answered('no boot id over mTLS', node.started + BOOT_DEADLINE_MS.amd64, 'read', '/proc/sys/kernel/random/boot_id')).trim();
        t.diagnostic(`QEMU start to the first mTLS answer: ${((Date.now() - node.started) / 1000).toFixed(1)} s`);
        await untilSerial(node, /STATE volume mounted .*source=\/dev\/vda path=\/system\/state/, Date.now() + STEP_MS);
        await untilSerial(node, /machine config loaded source=platform/, Date.now() + STEP_MS);
        const mounts = await ctl('mounts');
        assert.match(mounts, /\/dev\/vda\s.*\/system\/state/, 'the STATE disk is mounted at /system/state');
        const config1 = await ctl('get', 'mc', 'v1alpha1', '-o', 'jsonpath={.spec}');
        assert.equal(config1.trim(), readFileSync(config, 'utf8').trim(), 'the active config is the one served');
        const identity1 = (await ctl('get', 'identities', 'local', '-o', 'jsonpath={.spec.nodeId}')).trim();
        assert.match(identity1, /^[0-9A-Za-z]+$/);
        assert.equal(configGets(work), 1, 'one download of the config');

        // reboot through the API: PID 1 reboots the kernel, QEMU restarts the guest in place. What the console shows
        // and when the node answers again with another boot id are timed from the call, beside bronzectl's own wait.
        const rebootAt = Date.now();
        // going down, then a whole boot: a boot's deadline and a step
        const deadline = rebootAt + BOOT_DEADLINE_MS.amd64 + STEP_MS;
        const since = () => ((Date.now() - rebootAt) / 1000).toFixed(1);
        const seen = (re: RegExp) => untilSerial(node, re, deadline).then(since, () => 'never');
        const marks = {
          'PID 1 reboots': seen(/\[bronze-init\] \[[ \d.]+\] rebooting/),
          'the kernel starts again': seen(/Linux version[\s\S]*Linux version/),
          'the config is loaded from STATE': seen(/machine config loaded source=disk/),
          'the API answers with a new boot id': untilAnswer(
            node,
            async () => {
              const id = (await ctl('read', '/proc/sys/kernel/random/boot_id')).trim();
              if (id === bootId1) throw new Error('the same boot id');
              return since();
            },
            deadline,
            'no new boot id',
          ).catch(() => 'never'),
        };
        const r = await bronzectl(['--talosconfig', join(work, 'talosconfig'), '-e', node.api, '-n', GUEST, 'reboot', '--timeout', `${Math.round((deadline - Date.now()) / 1000)}s`], { HOME: work });
        const waited = since();
        assert.equal(r.code, 0, `reboot: ${r.stderr}\nserial tail:\n${serialTail(node.serial)}`);
        assert.match(r.stderr, /rebooted/);
        for (const [what, at] of Object.entries(marks)) t.diagnostic(`reboot call to ${what}: ${await at} s`);
        t.diagnostic(`reboot call to bronzectl reboot's return (its wait for a new boot id): ${waited} s`);
        assert.equal(node.child.exitCode, null, 'QEMU still runs: the guest restarted in place');

        const bootId2 = (await ctl('read', '/proc/sys/kernel/random/boot_id')).trim();
        assert.notEqual(bootId2, bootId1, 'a new boot');
        const serial = readFileSync(node.serial, 'utf8');
        assert.match(serial, /unmounted \/system\/state/, 'PID 1 unmounted STATE before the reboot');
        const second = serial.slice(serial.lastIndexOf('STATE volume mounted'));
        assert.match(second, /machine config loaded source=disk path=\/system\/state\/config\.yaml/, 'the second boot read the config from STATE');
        assert.equal(configGets(work), 1, 'no second download of the config');
        assert.equal((await ctl('get', 'mc', 'v1alpha1', '-o', 'jsonpath={.spec}')).trim(), config1.trim(), 'the same config');
        assert.equal((await ctl('get', 'identities', 'local', '-o', 'jsonpath={.spec.nodeId}')).trim(), identity1, 'the same node identity');
        assert.equal((await ctl('get', 'hostname', '-o', 'jsonpath={.spec.hostname}')).trim(), HOSTNAME);
      } catch (e) {
        if (vm) t.diagnostic(`serial tail:\n${serialTail(vm.serial)}`);
        throw e;
      } finally {
        await vm?.stop();
        rmSync(work, { recursive: true, force: true });
      }
    },
  );
});
