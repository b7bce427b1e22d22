import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { ServiceInfo, ServiceStateEvent } from '../../api/gen/machine/machine.js';
import { EventStream, decodePayload } from '../events/index.js';
import { LogBuffer, LogManager } from '../logs/index.js';
import {
  MAX_EVENTS,
  ProcessRunner,
  RestartRunner,
  ServiceState,
  Supervisor,
  apiResponse,
  cgroupUnavailableReason,
  predicateCondition,
  stateName,
  type ServiceDefinition,
  type ServiceRunner,
  type ServiceUpdate,
} from './index.js';

const node = process.execPath;
const script = (code: string) => [node, '-e', code];
const FOREVER = 'setInterval(() => {}, 1 << 30);';

/** Resolves when `pred` holds for the service, re-checked on each of its changes; fails after `ms`. */
function until(svc: ServiceRunner, pred: (s: ServiceRunner) => boolean, ms = 30_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred(svc)) return resolve();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what} on ${svc.id}; events: ${JSON.stringify(svc.events().map((e) => `${stateName(e.state)}: ${e.msg}`))}`));
    }, ms);
    const stop = svc.watch(() => {
      if (pred(svc)) {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  });
}

const hasEvent = (re: RegExp) => (s: ServiceRunner) => s.events().some((e) => re.test(e.msg));
const inState = (state: ServiceState) => (s: ServiceRunner) => s.getState() === state;

/** Waits until a log buffer holds a line matching `re`. */
async function logLine(log: LogBuffer, re: RegExp, ms = 30_000): Promise<string> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  let text = '';
  try {
    for await (const chunk of log.read({ follow: true, signal: ac.signal })) {
      text += chunk.toString();
      const m = re.exec(text);
      if (m) return m[0];
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  throw new Error(`no line matching ${re} in log ${log.id}: ${JSON.stringify(text)}`);
}

/** Children of this process as /proc shows them, with their states. */
function children(): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) out.push({ pid: Number(name), state: f[0] });
    } catch {
      // gone
    }
  }
  return out;
}

const logs = new LogManager();
const supervisors: Supervisor[] = [];
function supervisor(opts: ConstructorParameters<typeof Supervisor>[0] = {}): Supervisor {
  const s = new Supervisor({ conditionCheckInterval: 20, ...opts });
  supervisors.push(s);
  return s;
}

function processService(id: string, code: string, extra: Partial<ServiceDefinition> = {}, runnerOpts: Partial<ConstructorParameters<typeof ProcessRunner>[0]> = {}): ServiceDefinition {
  return { id, runner: () => new ProcessRunner({ id, args: script(code), log: logs.serviceLog(id), gracefulShutdownTimeout: 2000, ...runnerOpts }), ...extra };
}

after(async () => {
  await Promise.all(supervisors.map((s) => s.shutdown()));
  await logs.close();
  const zombies = children().filter((c) => c.state === 'Z');
  assert.deepEqual(zombies, [], 'no zombie children left');
});

describe('supervisor', () => {
  test('dependency order: a service waits for the services it depends on to be up', async () => {
    const order: string[] = [];
    const sup = supervisor({ listener: (u: ServiceUpdate) => u.state === ServiceState.Running && order.push(u.id) });
    sup.load(processService('web', FOREVER, { dependsOn: ['db', 'cache'] }), processService('db', FOREVER));
    await sup.start('web', 'db');
    const web = sup.get('web');
    await until(web, hasEvent(/^Waiting for service "cache" to be registered$/), 30_000, 'registration wait');
    assert.equal(web.getState(), ServiceState.Waiting);
    sup.load(processService('cache', FOREVER));
    await sup.start('cache');
    await until(web, inState(ServiceState.Running));
    assert.equal(order.indexOf('web'), 2, `web started last: ${order}`);
    const msgs = web.events().map((e) => e.msg);
    assert.equal(msgs[0], 'Starting service');
    assert.ok(msgs.includes('Running pre state'));
    assert.ok(msgs.includes('Creating service runner'));
    assert.ok(msgs.some((m) => /^Process Process\(\[".*" "-e" ".*"\]\) started with PID \d+$/.test(m)), msgs.join('\n'));
    assert.ok(web.currentPid());
    await sup.stopWithReverseDependencies('db');
    assert.equal(web.getState(), ServiceState.Finished, 'dependents are stopped too');
    assert.equal(sup.get('db').getState(), ServiceState.Finished);
    assert.equal(sup.get('cache').getState(), ServiceState.Running);
    await sup.stop('cache');
  });

  test('crash loop: restarts with growing backoff, other services unaffected', async () => {
    const sup = supervisor();
    const sleeps: number[] = [];
    let restart!: RestartRunner;
    sup.load(
      {
        id: 'crashy',
        runner: () =>
          (restart = new RestartRunner(new ProcessRunner({ id: 'crashy', args: script("console.error('boom'); process.exit(3)"), log: logs.serviceLog('crashy') }), {
            policy: 'Forever',
            initialDelay: 5,
            maxDelay: 40,
            sleep: (ms, signal) => {
              sleeps.push(ms);
              return new Promise((r) => {
                const t = setTimeout(r, 1);
                signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
              });
            },
          })),
      },
      processService('steady', FOREVER),
    );
    await sup.start('crashy', 'steady');
    const crashy = sup.get('crashy');
    await until(crashy, () => sleeps.length >= 6, 60_000, 'six restarts');
    await until(sup.get('steady'), inState(ServiceState.Running));
    assert.deepEqual(sleeps.slice(0, 6), [5, 10, 20, 40, 40, 40]);
    assert.ok(
      crashy.events().some((e) => e.state === ServiceState.Waiting && /^Error running Process\(\[.*\]\), going to restart forever: exit status 3 \(last log "boom"\)$/.test(e.msg)),
      crashy.events().map((e) => e.msg).join('\n'),
    );
    assert.equal(String(restart), `Restart(Forever, Process(["${node}" "-e" "console.error('boom'); process.exit(3)"]))`);
    await sup.stop('crashy');
    assert.equal(crashy.getState(), ServiceState.Finished);
    assert.equal(sup.get('steady').getState(), ServiceState.Running);
    await sup.stop('steady');
  });

  test('backoff resets after a stable run', async () => {
    let clock = 0;
    const sleeps: number[] = [];
    let runs = 0;
    const inner = {
      run: async () => {
        runs++;
        clock += runs === 4 ? 120_000 : 1; // the fourth run stays up two minutes
        throw new Error('crashed');
      },
      stop: async () => {},
      toString: () => 'Fake()',
    };
    const r = new RestartRunner(inner, { policy: 'UntilSuccess', initialDelay: 100, maxDelay: 10_000, stableAfter: 60_000, now: () => clock, sleep: (ms) => (sleeps.push(ms), new Promise((res) => setImmediate(res))) });
    const events: string[] = [];
    const p = r.run({ sink: (_s, m) => events.push(m) });
    while (sleeps.length < 6) await new Promise((res) => setImmediate(res));
    await r.stop();
    await p;
    assert.deepEqual(sleeps.slice(0, 6), [100, 200, 400, 100, 200, 400]);
    assert.equal(events[0], 'Error running Fake(), going to restart until it succeeds: crashed');
  });

  test('Once and UntilSuccess end the service; a failing pre step fails it; no runner skips it', async () => {
    const sup = supervisor();
    sup.load(
      { id: 'once', runner: () => new RestartRunner(new ProcessRunner({ id: 'once', args: script('process.exit(2)') }), { policy: 'Once' }) },
      { id: 'ok', runner: () => new RestartRunner(new ProcessRunner({ id: 'ok', args: script('process.exit(0)') }), { policy: 'UntilSuccess' }) },
      { id: 'pre', pre: async () => Promise.reject(new Error('mount missing')), runner: () => new ProcessRunner({ id: 'pre', args: script(FOREVER) }) },
      { id: 'skip', runner: () => undefined },
    );
    await sup.start('once', 'ok', 'pre', 'skip');
    await until(sup.get('once'), inState(ServiceState.Failed));
    assert.match(sup.get('once').events().at(-1)!.msg, /^Failed running service: error running service: exit status 2 \(last log ""\)$/);
    await until(sup.get('ok'), inState(ServiceState.Finished));
    assert.equal(sup.get('ok').events().at(-1)!.msg, 'Service finished successfully');
    await until(sup.get('pre'), inState(ServiceState.Failed));
    assert.equal(sup.get('pre').events().at(-1)!.msg, 'Failed to run pre stage: mount missing');
    await until(sup.get('skip'), inState(ServiceState.Skipped));
    assert.equal(sup.get('skip').isUp(), true);
    await assert.rejects(sup.start('nope', 'other'), { code: 'BRONZE_SUPERVISOR_NOT_DEFINED', message: 'service "nope" not defined; service "other" not defined' });
  });

  test('health check failure and recovery produce events; up follows health', async () => {
    const events = new EventStream();
    const watch = events.watch();
    const sup = supervisor({ events });
    let healthy = true;
    sup.load(
      processService('checked', FOREVER, {
        health: {
          check: async () => {
            if (!healthy) throw new Error('not ready');
          },
          settings: { initialDelay: 0, period: 15, timeout: 200 },
        },
      }),
      processService('after-checked', FOREVER, { dependsOn: ['checked'] }),
    );
    await sup.start('checked', 'after-checked');
    const svc = sup.get('checked');
    await until(svc, hasEvent(/^Health check successful$/));
    assert.equal(svc.isUp(), true);
    await until(sup.get('after-checked'), inState(ServiceState.Running));
    healthy = false;
    await until(svc, hasEvent(/^Health check failed: not ready$/));
    assert.equal(svc.isUp(), false);
    assert.deepEqual({ ...svc.toProto().health, lastChange: undefined }, { unknown: false, healthy: false, lastMessage: 'not ready', lastChange: undefined });
    healthy = true;
    await until(svc, (s) => s.events().filter((e) => e.msg === 'Health check successful').length === 2);
    assert.equal(svc.isUp(), true);
    // the same changes went to the event stream as ServiceStateEvents
    const seen: ServiceStateEvent[] = [];
    for await (const e of watch) {
      const p = decodePayload(e.typeUrl, e.value);
      if (p?.type !== 'machine.ServiceStateEvent') continue;
      const m = p.message as ServiceStateEvent;
      if (m.service === 'checked') seen.push(m);
      if (seen.filter((x) => x.message === 'Health check successful').length === 2) break;
    }
    const failed = seen.find((m) => m.message === 'Health check failed: not ready')!;
    assert.equal(failed.action, ServiceState.Running);
    assert.equal(failed.health?.healthy, false);
    assert.equal(seen[0].message, 'Starting service');
    await sup.stop('after-checked', 'checked');
  });

  test('stop under a timeout: SIGTERM ignored, SIGKILL follows, no zombie', async () => {
    const sup = supervisor();
    const log = logs.serviceLog('stubborn');
    sup.load(processService('stubborn', "process.on('SIGTERM', () => console.log('ignoring TERM')); console.log('ready'); " + FOREVER, {}, { gracefulShutdownTimeout: 200 }));
    await sup.start('stubborn');
    const svc = sup.get('stubborn');
    await until(svc, inState(ServiceState.Running));
    const pid = svc.currentPid()!;
    await logLine(log, /ready\n/);
    const t0 = performance.now();
    await sup.stop('stubborn');
    const took = performance.now() - t0;
    const msgs = svc.events().map((e) => e.msg);
    assert.ok(msgs.some((m) => /^Sending SIGTERM to Process\(/.test(m)));
    assert.ok(msgs.some((m) => /^Sending SIGKILL to Process\(/.test(m)));
    assert.equal(msgs.at(-1), 'Service finished successfully');
    assert.ok(took >= 150 && took < 5000, `stop took ${took} ms`);
    assert.equal(existsSync(`/proc/${pid}`), false, 'the process is gone (reaped)');
    assert.match(await logLine(log, /ignoring TERM\n/), /ignoring TERM/);
  });

  test('a stopped process group takes its children along; nothing is left as a zombie', async () => {
    const sup = supervisor();
    const log = logs.serviceLog('parent');
    const code = `const c = require('child_process').spawn(process.execPath, ['-e', '${FOREVER}'], { stdio: 'ignore' }); console.log('child ' + c.pid); ${FOREVER}`;
    sup.load(processService('parent', code));
    await sup.start('parent');
    const line = await logLine(log, /child (\d+)\n/);
    const grandchild = Number(/child (\d+)/.exec(line)![1]);
    assert.ok(existsSync(`/proc/${grandchild}`));
    await sup.stop('parent');
    // the group got SIGKILL; the grandchild (reparented to init) dies as soon as the kernel delivers it
    const stat = () => (existsSync(`/proc/${grandchild}/stat`) ? readFileSync(`/proc/${grandchild}/stat`, 'utf8') : '');
    const deadline = Date.now() + 5000;
    let left = stat();
    while (left !== '' && !/ Z /.test(left) && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      left = stat();
    }
    assert.ok(left === '' || / Z /.test(left), `grandchild gone: ${left}`);
    assert.deepEqual(
      children().filter((c) => c.state === 'Z'),
      [],
    );
  });

  test('env, cwd and uid/gid drop', async (t) => {
    if (process.getuid!() !== 0) return t.skip('needs root');
    const sup = supervisor();
    const log = logs.serviceLog('dropped');
    sup.load(
      processService('dropped', "console.log(`${process.getuid()} ${process.getgid()} ${process.getgroups().join(',')} ${process.cwd()} ${process.env.BRONZE_TEST}`)", {}, { uid: 65534, gid: 65534, cwd: '/tmp', env: { BRONZE_TEST: 'yes' } }),
    );
    await sup.start('dropped');
    await until(sup.get('dropped'), inState(ServiceState.Finished));
    assert.equal(await logLine(log, /.*\n/), '65534 65534 65534 /tmp yes\n');
  });

  test('cgroup v2: the process runs in its cgroup, which is removed after; unavailable roots are skipped with a reason', async (t) => {
    const lines: string[] = [];
    const logger = pino({ base: undefined }, new Writable({ write: (c, _e, cb) => (lines.push(c.toString()), cb()) }));
    const sup = supervisor({ logger });
    sup.load(processService('no-cg', 'process.exit(0)', {}, { cgroup: { path: 'bronze-test/no-cg', root: '/tmp' }, logger }));
    await sup.start('no-cg');
    await until(sup.get('no-cg'), inState(ServiceState.Finished));
    assert.ok(lines.some((l) => l.includes('running without a cgroup') && l.includes('/tmp is not a cgroup v2 mount')), lines.join(''));
    const usable = cgroupUnavailableReason('/sys/fs/cgroup') === undefined ? '/sys/fs/cgroup' : cgroupUnavailableReason('/sys/fs/cgroup/unified') === undefined ? '/sys/fs/cgroup/unified' : undefined;
    if (!usable) return t.skip('no writable cgroup v2 mount here');
    sup.load(processService('in-cg', FOREVER, {}, { cgroup: { path: 'bronze-test/in-cg', root: usable }, logger }));
    await sup.start('in-cg');
    const svc = sup.get('in-cg');
    await until(svc, inState(ServiceState.Running));
    const pid = svc.currentPid()!;
    const procs = readFileSync(`${usable}/bronze-test/in-cg/cgroup.procs`, 'utf8').trim().split('\n').map(Number);
    assert.deepEqual(procs, [pid]);
    assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), /^0::\/bronze-test\/in-cg$/m);
    await sup.stop('in-cg');
    assert.equal(existsSync(`${usable}/bronze-test/in-cg`), false);
    rmdirSync(`${usable}/bronze-test`);
  });

  test('API start/stop/restart rules and messages', async () => {
    const sup = supervisor();
    sup.load(processService('kubelet', FOREVER, { api: { start: true, restart: true } }), processService('etcd', FOREVER), processService('ext-foo', FOREVER, { api: { start: true, stop: true, restart: true } }));
    await assert.rejects(sup.apiStart('nope'), { message: 'service "nope" not defined' });
    await assert.rejects(sup.apiStart('etcd'), { code: 'BRONZE_SUPERVISOR_API_NOT_ALLOWED', message: `service "etcd" doesn't support start operation via API` });
    await sup.apiStop('etcd'); // not running: no-op
    await sup.apiRestart('kubelet'); // not running: a start
    await until(sup.get('kubelet'), inState(ServiceState.Running));
    await sup.apiStart('kubelet'); // running: no-op
    await assert.rejects(sup.apiStop('kubelet'), { message: `service "kubelet" doesn't support stop operation via API` });
    const firstPid = sup.get('kubelet').currentPid();
    await sup.apiRestart('kubelet');
    await until(sup.get('kubelet'), (s) => s.getState() === ServiceState.Running && s.currentPid() !== firstPid);
    await sup.start('etcd');
    await assert.rejects(sup.apiRestart('etcd'), { message: `service "etcd" doesn't support restart operation via API` });
    await sup.apiStart('ext-foo');
    await until(sup.get('ext-foo'), inState(ServiceState.Running));
    await sup.apiStop('ext-foo');
    assert.equal(sup.get('ext-foo').getState(), ServiceState.Finished);
    assert.equal(apiResponse('restart', 'kubelet'), 'Service "kubelet" restarted');
    assert.deepEqual(
      sup.list().map((s) => s.id),
      ['etcd', 'ext-foo', 'kubelet'],
    );
    await sup.shutdown();
    assert.ok(sup.list().every((s) => s.isDown()));
  });

  test('ServiceInfo shape, 64-event history, changing wait descriptions', async () => {
    const sup = supervisor();
    let ready = 0;
    const wakes = new Set<() => void>();
    const cond = (n: number) => predicateCondition(`step ${n}`, () => ready >= n, { subscribe: (w) => (wakes.add(w), () => wakes.delete(w)) });
    const both = { wait: async (s: AbortSignal) => { await cond(1).wait(s); stepDone = true; await cond(2).wait(s); }, describe: () => (stepDone ? 'step 2' : 'step 1, step 2') };
    let stepDone = false;
    sup.load({ id: 'waiter', condition: both, runner: () => undefined });
    await sup.start('waiter');
    const svc = sup.get('waiter');
    await until(svc, hasEvent(/^Waiting for step 1, step 2$/));
    ready = 1;
    for (const w of wakes) w();
    await until(svc, hasEvent(/^Waiting for step 2$/));
    ready = 2;
    for (const w of wakes) w();
    await until(svc, inState(ServiceState.Skipped));
    for (let i = 0; i < 100; i++) svc.updateState(ServiceState.Skipped, `filler ${i}`);
    const info = ServiceInfo.decode(ServiceInfo.encode(svc.toProto()).finish());
    assert.equal(info.id, 'waiter');
    assert.equal(info.state, 'Skipped');
    assert.equal(info.events?.events.length, MAX_EVENTS);
    assert.equal(info.events?.events.at(-1)?.msg, 'filler 99');
    assert.equal(info.events?.events[0].state, 'Skipped');
    assert.ok(info.events?.events[0].ts instanceof Date);
    assert.equal(info.health?.unknown, true);
  });
});
