import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import pino from 'pino';
import { ApplyConfigurationRequest_Mode as Mode } from '../api/gen/machine/machine.js';
import { generateBundle } from '../config/generate/config.js';
import { InMemoryState } from '../cosi/inmem.js';
import { State } from '../cosi/state.js';
import { ActiveID, type MachineConfigSpec, MachineConfigType } from '../resources/config/machine-config.js';
import { ApplyError, ConfigApplier, lineDiff } from './apply.js';
import { ConfigStore } from './config-store.js';

test('lineDiff marks removed then added lines and keeps common ones out', () => {
  assert.equal(lineDiff('a\nb\nc', 'a\nB\nc'), '-b\n+B');
  assert.equal(lineDiff('a\nb', 'a\nb\nc'), '+c');
  assert.equal(lineDiff('a\nb\nc', 'a\nc'), '-b');
  assert.equal(lineDiff('same', 'same'), '');
});

describe('ConfigApplier', () => {
  const activePtr = { namespace: 'config', type: MachineConfigType, id: ActiveID };
  let dir: string;
  let first: string;
  let second: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-apply-'));
    first = (await generateBundle({ clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' })).controlplane.toString();
    assert.match(first, /^auto: stable$/m);
    second = first.replace(/^auto: stable$/m, 'hostname: applied-1');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const setup = async (storeDir: string) => {
    const state = new State(new InMemoryState());
    const applier = new ConfigApplier(state, new ConfigStore(storeDir), 'container', pino({ level: 'silent' }));
    const r = await applier.apply({ data: Buffer.from(first), mode: Mode.NO_REBOOT, dryRun: false, tryModeTimeout: undefined });
    assert.equal(r.modeDetails, 'Applied configuration without a reboot');
    const active = async () => ((await state.get(activePtr)).spec as MachineConfigSpec).text;
    return { state, applier, active };
  };

  it('no-reboot: the config is in effect and stored when the answer comes', async () => {
    const d = join(dir, 'no-reboot');
    const { applier, active } = await setup(d);
    const r = await applier.apply({ data: Buffer.from(second), mode: Mode.NO_REBOOT, dryRun: false, tryModeTimeout: undefined });
    assert.equal(r.mode, Mode.NO_REBOOT);
    assert.equal(await active(), second);
    assert.equal(readFileSync(join(d, 'config.yaml'), 'utf8'), second);
  });

  it('staged: stored for the next boot, the config in effect unchanged', async () => {
    const d = join(dir, 'staged');
    const { applier, active } = await setup(d);
    const r = await applier.apply({ data: Buffer.from(second), mode: Mode.STAGED, dryRun: false, tryModeTimeout: undefined });
    assert.equal(r.modeDetails, 'Staged configuration to be applied after the next reboot');
    assert.equal(await active(), first);
    assert.equal(readFileSync(join(d, 'config.yaml'), 'utf8'), second);
  });

  it('a config that cannot be stored is refused and does not stay in effect', async () => {
    const d = join(dir, 'unstorable');
    const { applier, active } = await setup(d);
    // a directory where the temporary file goes: opening it for writing fails
    rmSync(join(d, 'config.yaml'));
    mkdirSync(join(d, 'config.yaml-tmp'));
    for (const mode of [Mode.NO_REBOOT, Mode.STAGED]) {
      await assert.rejects(
        applier.apply({ data: Buffer.from(second), mode, dryRun: false, tryModeTimeout: undefined }),
        (e: unknown) => e instanceof ApplyError && e.grpcCode === status.INTERNAL && e.message.startsWith(`storing the machine config in ${join(d, 'config.yaml')}: EISDIR`),
      );
      assert.equal(await active(), first, Mode[mode]);
    }
  });

  it('a dry run changes nothing and answers with the diff', async () => {
    const d = join(dir, 'dry-run');
    const { applier, active } = await setup(d);
    const r = await applier.apply({ data: Buffer.from(second), mode: Mode.NO_REBOOT, dryRun: true, tryModeTimeout: undefined });
    assert.match(r.modeDetails, /^Dry run summary:\nApplied configuration without a reboot \(skipped in dry-run\)\.\n/);
    assert.match(r.modeDetails, /^-auto: stable$/m);
    assert.match(r.modeDetails, /^\+hostname: applied-1$/m);
    assert.equal(await active(), first);
    assert.equal(readFileSync(join(d, 'config.yaml'), 'utf8'), first);
  });
});
