import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Code } from '../../api/gen/common/common.js';
import { RebootRequest_Mode, ResetRequest, ResetRequest_WipeMode, SequenceEvent, type PhaseEvent, type TaskEvent } from '../../api/gen/machine/machine.js';
import { EventStream, type StoredEvent } from '../events/index.js';
import {
  PhaseList,
  PID1_RESTART_MACHINED,
  pid1ExitStatus,
  RebootCommand,
  RebootRequested,
  Sequencer,
  TASK_NAMES,
  canTakeOver,
  parseSequence,
  standardSequences,
  type Phase,
  type SequenceEnvironment,
  type Task,
  type TaskSet,
} from './index.js';

/** A compact rendering of sequencer events: `seq:boot:START`, `phase:p1:START`, `task:a:STOP`, `seq:boot:NOOP:FATAL:...`. */
function render(e: StoredEvent): string {
  const m = e.message as unknown as Record<string, unknown>;
  switch (e.type) {
    case 'machine.SequenceEvent': {
      const s = m as unknown as SequenceEvent;
      const action = ['NOOP', 'START', 'STOP'][s.action];
      return s.error ? `seq:${s.sequence}:${action}:${Code[s.error.code]}:${s.error.message}` : `seq:${s.sequence}:${action}`;
    }
    case 'machine.PhaseEvent':
      return `phase:${(m as unknown as PhaseEvent).phase}:${['START', 'STOP'][(m as unknown as PhaseEvent).action]}`;
    case 'machine.TaskEvent':
      return `task:${(m as unknown as TaskEvent).task}:${['START', 'STOP'][(m as unknown as TaskEvent).action]}`;
    default:
      return e.type;
  }
}

const log = (events: EventStream) => events.history().map(render);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A task that resolves when released, or rejects when its signal aborts. */
function blocking(name: string, started?: () => void): Task & { release: () => void } {
  const gate = deferred();
  return {
    name,
    release: gate.resolve,
    run: ({ signal }) =>
      new Promise<void>((resolve, reject) => {
        started?.();
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        void gate.promise.then(resolve);
      }),
  };
}

/** Resolves once an event rendering as `what` has been published. */
async function published(events: EventStream, what: string): Promise<void> {
  for await (const e of events.watch({ tailEvents: -1 })) if (render(e) === what) return;
}

describe('sequencer', () => {
  test('phases run in order, tasks of a phase concurrently, with events around each', async () => {
    const events = new EventStream();
    const order: string[] = [];
    const bStarted = deferred();
    const phases: Phase[] = new PhaseList()
      .append(
        'first',
        { name: 'a', run: async () => void (await bStarted.promise, order.push('a')) },
        { name: 'b', run: async () => void (bStarted.resolve(), order.push('b')) },
      )
      .appendWithDeferredCheck(() => false, 'skipped', { name: 'never', run: async () => void order.push('never') })
      .appendWhen(false, 'absent', { name: 'never2', run: async () => void order.push('never2') })
      .append('second', { name: 'c', run: async () => void order.push('c') }).phases;
    const seq = new Sequencer({ events, definitions: { boot: () => phases } });
    await seq.run('boot');
    assert.deepEqual(order, ['b', 'a', 'c']);
    assert.deepEqual(log(events), [
      'seq:boot:START',
      'phase:first:START',
      'task:a:START',
      'task:b:START',
      'task:b:STOP',
      'task:a:STOP',
      'phase:first:STOP',
      'phase:second:START',
      'task:c:START',
      'task:c:STOP',
      'phase:second:STOP',
      'seq:boot:STOP',
    ]);
    assert.equal(seq.running, 'noop');
  });

  test('a failing task cancels its siblings and fails the sequence (FATAL)', async () => {
    const events = new EventStream();
    let siblingAborted = false;
    let laterRan = false;
    const seq = new Sequencer({
      events,
      definitions: {
        boot: () =>
          new PhaseList()
            .append(
              'p',
              { name: 'slow', run: ({ signal }) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => ((siblingAborted = true), reject(new Error('canceled'))))) },
              { name: 'bad', run: async () => Promise.reject(new Error('boom')) },
            )
            .append('later', { name: 'later', run: async () => void (laterRan = true) }).phases,
      },
    });
    await assert.rejects(seq.run('boot'), { code: 'BRONZE_SEQUENCER_FAILED', message: 'error running phase 1 in boot sequence: task 2/2: failed, boom' });
    assert.equal(siblingAborted, true);
    assert.equal(laterRan, false);
    assert.deepEqual(log(events).slice(-3), ['phase:p:STOP', 'seq:boot:STOP', 'seq:boot:NOOP:FATAL:sequence failed: error running phase 1 in boot sequence: task 2/2: failed, boom']);
  });

  test('take-over rules: LOCKED when not allowed, cancel and replace when allowed', async () => {
    const events = new EventStream();
    const bootTask = blocking('startAllServices');
    const rebootTask = blocking('reboot');
    const seq = new Sequencer({
      events,
      definitions: {
        boot: () => [{ name: 'startEverything', tasks: [bootTask] }],
        reboot: () => [{ name: 'reboot', tasks: [rebootTask] }],
        shutdown: () => [{ name: 'shutdown', tasks: [{ name: 'shutdown', run: async () => {} }] }],
        reset: () => [],
      },
    });
    const boot = seq.run('boot');
    await published(events, 'task:startAllServices:START');
    assert.equal(seq.running, 'boot');
    await assert.rejects(seq.run('shutdown'), { code: 'BRONZE_SEQUENCER_LOCKED' });
    assert.equal(log(events).at(-1), 'seq:shutdown:NOOP:LOCKED:sequence not started: locked');
    const reboot = seq.run('reboot');
    await assert.rejects(boot, { code: 'BRONZE_SEQUENCER_CANCELED' });
    await published(events, 'task:reboot:START');
    assert.equal(seq.running, 'reboot');
    assert.ok(log(events).some((l) => l.startsWith('seq:boot:NOOP:CANCELED:sequence failed:')));
    await assert.rejects(seq.run('reset'), { code: 'BRONZE_SEQUENCER_LOCKED' });
    // an explicit take-over (Shutdown from the API) preempts anything
    await seq.run('shutdown', undefined, { takeover: true });
    await assert.rejects(reboot, { code: 'BRONZE_SEQUENCER_CANCELED' });
    assert.equal(seq.running, 'noop');
  });

  test('a take-over waits for the preempted sequence at most the timeout', async () => {
    const stuck = deferred();
    const started = deferred();
    const seq = new Sequencer({
      takeoverTimeout: 50,
      definitions: { boot: () => [{ name: 'p', tasks: [{ name: 'ignores-cancel', run: () => (started.resolve(), stuck.promise) }] }], reboot: () => [] },
    });
    const boot = seq.run('boot');
    await started.promise;
    await assert.rejects(seq.run('reboot'), { code: 'BRONZE_SEQUENCER_LOCK_TIMEOUT', message: 'failed to acquire lock: timeout' });
    stuck.resolve();
    await assert.rejects(boot, { code: 'BRONZE_SEQUENCER_CANCELED' });
    await seq.run('reboot');
  });

  test('cancel() aborts the running sequence and waits for it', async () => {
    const events = new EventStream();
    const task = blocking('startAllServices');
    const seq = new Sequencer({ events, definitions: { boot: () => [{ name: 'startEverything', tasks: [task] }] } });
    assert.equal(await seq.cancel(), undefined);
    const boot = seq.run('boot');
    await published(events, 'task:startAllServices:START');
    assert.equal(await seq.cancel(), 'boot');
    assert.equal(seq.running, 'noop');
    await assert.rejects(boot, { code: 'BRONZE_SEQUENCER_CANCELED' });
    assert.match(log(events).at(-1)!, /^seq:boot:NOOP:CANCELED:sequence failed: error running phase 1 in boot sequence: task 1\/1: failed, sequence boot canceled$/);
  });

  test('start() returns an actor id carried by every event of the run', async () => {
    const events = new EventStream();
    const seq = new Sequencer({ events, definitions: { reboot: () => [{ name: 'reboot', tasks: [{ name: 'reboot', run: async () => {} }] }] } });
    const { actorId, done } = seq.start('reboot', { mode: RebootRequest_Mode.DEFAULT });
    assert.match(actorId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await done;
    const mine = events.history().filter((e) => e.actorId === actorId);
    assert.equal(mine.length, 6);
    assert.equal(events.history().length, 6);
  });

  test('a reboot request ends the sequence without reporting a failure', async () => {
    const events = new EventStream();
    const seq = new Sequencer({ events, definitions: { shutdown: () => [{ name: 'shutdown', tasks: [{ name: 'shutdown', run: async () => Promise.reject(new RebootRequested(RebootCommand.POWER_OFF)) }] }] } });
    await assert.rejects(seq.run('shutdown'), (e: unknown) => e instanceof RebootRequested && e.cmd === RebootCommand.POWER_OFF);
    assert.ok(!log(events).some((l) => l.includes('NOOP')));
    assert.equal(log(events).at(-1), 'seq:shutdown:STOP');
  });

  test('unknown and unimplemented sequences', async () => {
    const seq = new Sequencer({ definitions: {} });
    await assert.rejects(seq.run('install'), { code: 'BRONZE_SEQUENCER_NOT_IMPLEMENTED', message: 'sequence not implemented: "install"' });
    await seq.run('noop');
    assert.throws(() => parseSequence('rebooot'), { code: 'BRONZE_SEQUENCER_UNKNOWN_SEQUENCE' });
  });

  test('take-over table', () => {
    const yes: [string, string][] = [
      ['reboot', 'boot'], ['reset', 'boot'], ['upgrade', 'boot'], ['emergencyVolumeCleanup', 'boot'],
      ['maintenanceUpgrade', 'initialize'], ['reboot', 'initialize'], ['emergencyVolumeCleanup', 'initialize'],
      ['reboot', 'reboot'], ['reboot', 'reset'], ['boot', 'noop'], ['shutdown', 'noop'],
    ];
    const no: [string, string][] = [['shutdown', 'boot'], ['reset', 'reboot'], ['upgrade', 'reboot'], ['boot', 'initialize'], ['reset', 'initialize'], ['reboot', 'shutdown'], ['reboot', 'upgrade'], ['reset', 'reset']];
    for (const [a, b] of yes) assert.equal(canTakeOver(parseSequence(a), parseSequence(b)), true, `${a} over ${b}`);
    for (const [a, b] of no) assert.equal(canTakeOver(parseSequence(a), parseSequence(b)), false, `${a} over ${b}`);
  });
});

describe('standard sequences', () => {
  const all: TaskSet = Object.fromEntries(TASK_NAMES.map((n) => [n, async () => {}]));
  const shape = (phases: Phase[]) => phases.map((p) => `${p.name}[${p.tasks.map((t) => t.name).join(',')}]`);

  test('process platform: container sequences, but reset wipes the state directory and honours reboot', () => {
    const defs = standardSequences({ mode: 'process', tasks: all });
    assert.deepEqual(shape(defs.initialize!(undefined)), ['machined[startApid,startMachined,startContainerd]', 'config[loadConfig]']);
    assert.deepEqual(shape(defs.reboot!({ mode: RebootRequest_Mode.DEFAULT })), ['cleanup[stopAllPods]', 'dbus[stopDBus]', 'stopEverything[stopAllServices]', 'reboot[reboot]']);
    assert.deepEqual(shape(defs.shutdown!({ force: false })).slice(-2), ['stopEverything[stopAllServices]', 'shutdown[shutdown]']);
    assert.deepEqual(shape(defs.reset!(ResetRequest.fromPartial({ reboot: true }))), ['preReset[sendResetSignal]', 'stopEverything[stopAllServices]', 'reset[resetSystemDisk]', 'reboot[reboot]']);
    assert.deepEqual(shape(defs.reset!(ResetRequest.fromPartial({ systemPartitionsToWipe: [{ label: 'STATE', wipe: true }] }))), [
      'preReset[sendResetSignal]', 'stopEverything[stopAllServices]', 'resetSpec[resetSystemDiskSpec]', 'shutdown[shutdown]',
    ]);
    assert.deepEqual(shape(defs.reset!(ResetRequest.fromPartial({ mode: ResetRequest_WipeMode.USER_DISKS }))), ['preReset[sendResetSignal]', 'stopEverything[stopAllServices]', 'shutdown[shutdown]']);
    // a control plane leaves etcd first when the reset is graceful
    const cp = standardSequences({ mode: 'process', tasks: all, controlPlane: () => true });
    assert.deepEqual(shape(cp.reset!(ResetRequest.fromPartial({ graceful: true }))).slice(0, 2), ['leave[leaveEtcd]', 'preReset[sendResetSignal]']);
    assert.deepEqual(shape(cp.reset!(ResetRequest.fromPartial({ graceful: false }))).slice(0, 1), ['preReset[sendResetSignal]']);
  });

  test('container mode', () => {
    const defs = standardSequences({ mode: 'container', tasks: all });
    assert.deepEqual(shape(defs.initialize!(undefined)), ['machined[startApid,startMachined,startContainerd]', 'config[loadConfig]']);
    assert.deepEqual(shape(defs.reboot!({ mode: RebootRequest_Mode.DEFAULT })), ['cleanup[stopAllPods]', 'dbus[stopDBus]', 'stopEverything[stopAllServices]', 'reboot[reboot]']);
    assert.deepEqual(shape(defs.reset!(ResetRequest.fromPartial({ reboot: true }))), ['stopEverything[stopAllServices]', 'shutdown[shutdown]']);
    assert.deepEqual(shape(defs.boot!(undefined)), [
      'memorySizeCheck[memorySizeCheck]', 'diskSizeCheck[diskSizeCheck]', 'env[setUserEnvVars,waitForCARoots]', 'dbus[startDBus]',
      'sharedFilesystems[setupSharedFilesystems]', 'ephemeral[mountEphemeralPartition]', 'userSetup[writeUserFiles]', 'startEverything[startAllServices]',
    ]);
    assert.equal(defs.install, undefined);
  });

  test('metal mode', () => {
    let installed = false;
    const env: SequenceEnvironment = { mode: 'metal', tasks: all, installed: () => installed, haltIfInstalled: () => true, kexecEnabled: (m) => m === RebootRequest_Mode.DEFAULT, controlPlane: () => true, resetWipesBoot: () => false };
    const defs = standardSequences(env);
    const init = defs.initialize!(undefined);
    assert.deepEqual(
      init.map((p) => p.name),
      ['systemRequirements', 'earlyServices', 'usb', 'meta', 'cleanupBootloader', 'dashboard', 'wipeDisks', 'haltIfInstalled', 'config'],
    );
    const halt = init.find((p) => p.name === 'haltIfInstalled')!;
    assert.equal(halt.check!(), false);
    installed = true;
    assert.equal(halt.check!(), true);
    assert.deepEqual(shape(defs.reboot!({ mode: RebootRequest_Mode.FORCE })), ['reboot[reboot]']);
    assert.deepEqual(
      defs.reboot!({ mode: RebootRequest_Mode.DEFAULT }).map((p) => p.name),
      ['cleanup', 'dbus', 'denyNewServices', 'stopServices', 'umount', 'unmountBind', 'unmountPromotable', 'unmountSystem', 'volumeFinalize', 'stopEverything', 'kexec', 'reboot'],
    );
    assert.ok(!defs.reboot!({ mode: RebootRequest_Mode.POWERCYCLE }).some((p) => p.name === 'kexec'));
    assert.deepEqual(
      defs.shutdown!({ force: false }).map((p) => p.name),
      ['storeShutdown', 'drain', 'cleanup', 'dbus', 'denyNewServices', 'stopServices', 'umount', 'unmountBind', 'unmountPromotable', 'unmountSystem', 'volumeFinalize', 'stopEverything', 'shutdown'],
    );
    assert.ok(!defs.shutdown!({ force: true }).some((p) => p.name === 'drain'));
    const graceful = shape(defs.reset!(ResetRequest.fromPartial({ graceful: true, reboot: true })));
    assert.deepEqual(graceful.slice(0, 5), ['drain[cordonAndDrainNode]', 'cleanup[removeAllPods]', 'dbus[stopDBus]', 'leave[leaveEtcd]', 'preReset[sendResetSignal]']);
    assert.deepEqual(graceful.slice(-4), ['kexec[kexecPrepare]', 'forceCleanup[forceCleanup]', 'reset[resetSystemDisk]', 'reboot[reboot]']);
    const spec = shape(defs.reset!(ResetRequest.fromPartial({ systemPartitionsToWipe: [{ label: 'EPHEMERAL', wipe: true }], userDisksToWipe: ['/dev/sdb'], mode: ResetRequest_WipeMode.SYSTEM_DISK })));
    assert.deepEqual(spec.slice(-3), ['resetSpec[resetSystemDiskSpec]', 'resetUserDisks[resetUserDisks]', 'shutdown[shutdown]']);
    assert.equal(spec[0], 'cleanup[stopAllPods]');
    assert.throws(() => defs.shutdown!(undefined), { code: 'BRONZE_SEQUENCER_INVALID_DATA' });
  });

  test('tasks a node lacks are left out; install and upgrade come from hooks', async () => {
    const events = new EventStream();
    const ran: string[] = [];
    const defs = standardSequences({
      mode: 'container',
      tasks: { stopAllServices: async () => void ran.push('stopAllServices'), reboot: async () => void ran.push('reboot') },
      install: () => [{ name: 'install', tasks: [{ name: 'install', run: async () => void ran.push('install') }] }],
    });
    const seq = new Sequencer({ events, definitions: defs });
    await seq.run('reboot', { mode: RebootRequest_Mode.DEFAULT });
    await seq.run('install');
    assert.deepEqual(ran, ['stopAllServices', 'reboot', 'install']);
    assert.ok(log(events).includes('task:stopAllServices:START'));
    assert.ok(log(events).includes('phase:cleanup:START'));
    assert.ok(!log(events).includes('task:stopAllPods:START'));
  });
});

describe('the end of a sequence, for PID 1', () => {
  test('exit statuses match what initramfs/init.c does with them', () => {
    const source = readFileSync(new URL('../../../initramfs/init.c', import.meta.url), 'utf8');
    const codes = Object.fromEntries([...source.matchAll(/EXIT_(POWEROFF|REBOOT|RESTART|HALT) = (\d+)/g)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual(codes, { POWEROFF: 0, REBOOT: 10, RESTART: 11, HALT: 12 });
    assert.equal(pid1ExitStatus(RebootCommand.POWER_OFF), codes.POWEROFF);
    assert.equal(pid1ExitStatus(RebootCommand.RESTART), codes.REBOOT);
    assert.equal(pid1ExitStatus(RebootCommand.KEXEC), codes.REBOOT);
    assert.equal(pid1ExitStatus(RebootCommand.HALT), codes.HALT);
    assert.equal(PID1_RESTART_MACHINED, codes.RESTART);
  });
});
