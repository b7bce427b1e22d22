import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYAML } from 'yaml';
import { Client } from '../../src/client/client.js';
import { clientOptionsFromContext } from '../../src/client/from-talosconfig.js';
import { loadTalosconfig, serializeTalosconfig } from '../../src/client/talosconfig.js';
import { bronzeCommand } from '../../src/cli/commands/cluster.js';
import { run } from '../../src/cli/main.js';
import { issueKeyPair, loadCA } from '../../src/pki/index.js';
import { type ClusterInfo, createCluster, destroyCluster } from '../../src/provision/process.js';
import { bronzectl as runBronzectl } from '../helpers/bronzectl.js';
import { SERVER_HEALTH_OK_LINES } from '../helpers/health-lines.js';
import { LoopbackNTPServer } from '../helpers/ntp-server.js';

const CIDR = '127.79.8.0/24';
const CP = '127.79.8.2';
const WORKER = '127.79.8.3';
const DOWN = '127.79.8.9';
const esc = (s: string) => s.replace(/\./g, '\\.');

/** A long-running bronzectl (get -w, logs -f): its output so far, a wait for a pattern, and a stop. */
function startCLI(args: string[], env: NodeJS.ProcessEnv) {
  const ac = new AbortController();
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; stream: 'stdout' | 'stderr'; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(w.stream === 'stdout' ? stdout : stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  out.on('data', (d) => {
    stdout += d;
    check();
  });
  err.on('data', (d) => {
    stderr += d;
    check();
  });
  const done = run(args, { stdout: out, stderr: err, stdin: new PassThrough(), env, signal: ac.signal });
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    /** resolves when stdout (or stderr) matches, or fails when the command ends first */
    waitFor(re: RegExp, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
      return Promise.race([
        new Promise<void>((resolve) => {
          waiters.push({ re, stream, resolve });
          check();
        }),
        done.then((code) => {
          if (!re.test(stream === 'stdout' ? stdout : stderr)) throw new Error(`bronzectl ${args.join(' ')} ended (${code}) before printing ${re}: ${stdout}${stderr}`);
        }),
      ]);
    },
    async stop(): Promise<number> {
      ac.abort();
      return done;
    },
    done,
  };
}

/**
 * The commands of a Talos user against a process cluster of one control plane and one worker: every command of the
 * CLI issue with real assertions, one cluster for the whole file.
 */
describe('bronzectl commands on a process cluster', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let info: ClusterInfo;
  let client: Client;
  let workerConfig: string;
  const state = () => join(dir, 's');
  const bronzectl = (...args: string[]) => runBronzectl(args, env);
  const bootId = async (node: string) => {
    let text = '';
    for await (const d of client.machine.read({ path: '/proc/sys/kernel/random/boot_id' }, { node, timeout: 10_000 })) text += Buffer.from(d.bytes).toString();
    return text.trim();
  };
  const hostnameOf = async (node: string) => {
    const r = await bronzectl('-n', node, 'get', 'hostnamestatus', '-o', 'jsonpath={.spec.hostname}');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  before(async () => {
    // short paths: containerd's sockets live under the node's directory, and a unix socket path has at most 104 bytes
    dir = mkdtempSync('/tmp/bzc-');
    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig'), PATH: process.env.PATH };
    info = await createCluster({ name: 'cc', stateDir: state(), cidr: CIDR, controlplanes: 1, workers: 1, talosconfig: env.TALOSCONFIG!, bronzeCommand: bronzeCommand(), waitTimeoutMs: 120_000 });
    const cfg = await loadTalosconfig(env.TALOSCONFIG!);
    client = new Client(clientOptionsFromContext(cfg.contexts.cc!, {}));
    workerConfig = readFileSync(join(info.nodes[1]!.dir, 'config.yaml'), 'utf8');
  });

  after(async () => {
    client?.close();
    if (info) await destroyCluster(state(), 'cc');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the version of each node, and get hostnamestatus -o json matches the Hostname API', { timeout: 30_000 }, async () => {
    const v = await bronzectl('-n', `${CP},${WORKER}`, 'version');
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, new RegExp(`NODE: +${esc(CP)}\\n[\\s\\S]*NODE: +${esc(WORKER)}\\n`));
    const j = await bronzectl('-n', WORKER, 'get', 'hostnamestatus', '-o', 'json');
    assert.equal(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout) as { node: string; metadata: { type: string }; spec: { hostname: string } };
    assert.equal(doc.node, WORKER);
    assert.equal(doc.metadata.type, 'HostnameStatuses.net.talos.dev');
    const h = await client.machine.hostname({}, { node: WORKER, timeout: 10_000 });
    assert.equal(doc.spec.hostname, h.messages[0]!.hostname);
    const y = parseYAML((await bronzectl('-n', WORKER, 'version', '-o', 'yaml')).stdout) as { node: string; version: { tag: string } };
    assert.equal(y.node, WORKER);
    assert.match(y.version.tag, /^v\d/);
  });

  it('get -w prints the update after apply-config changes the hostname', { timeout: 60_000 }, async () => {
    const w = startCLI(['-n', WORKER, 'get', 'hostnamestatus', '-w'], env);
    // the current state first, marked as created
    await w.waitFor(new RegExp(`${esc(WORKER)}   \\+   network `));
    const file = join(dir, 'worker.yaml');
    writeFileSync(file, workerConfig.replace(/kind: HostnameConfig\n(?:[a-z]+: \S+\n)+/, 'kind: HostnameConfig\nauto: "off"\nhostname: wrk-applied\n'));
    const a = await bronzectl('-n', WORKER, 'apply-config', '-f', file);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stderr, /Applied configuration without a reboot/);
    await w.waitFor(/wrk-applied/);
    assert.equal(await w.stop(), 0);
    const lines = w.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NODE +\* +NAMESPACE +TYPE +ID +VERSION +HOSTNAME +DOMAINNAME$/);
    // an update is marked with a blank, as talosctl does
    assert.match(lines.at(-1)!, new RegExp(`^${esc(WORKER)} {7}network +HostnameStatus +hostname +\\d+ +wrk-applied`));
  });

  it('patch machineconfig applies strategic merge patches (inline and @file), skips a patch that changes nothing, and --dry-run changes nothing', { timeout: 60_000 }, async () => {
    const patchFile = join(dir, 'hostname-patch.yaml');
    writeFileSync(patchFile, 'apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: wrk-patched\n');
    const p = await bronzectl('-n', WORKER, 'patch', 'machineconfig', '-p', `@${patchFile}`);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stderr, `patched MachineConfigs.config.talos.dev/v1alpha1 at the node ${WORKER}\nApplied configuration without a reboot\n`);
    assert.equal(await hostnameOf(WORKER), 'wrk-patched');
    const again = await bronzectl('-n', WORKER, 'patch', 'mc', '--patch-file', patchFile);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, 'Apply was skipped: no changes detected.\n');
    const dry = await bronzectl('-n', WORKER, 'patch', 'mc', '--dry-run', '-p', '{"machine":{"logging":{"destinations":[{"endpoint":"udp://127.0.0.1:5044","format":"json_lines"}]}}}');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /Dry run summary/);
    const mc = await bronzectl('-n', WORKER, 'get', 'mc', '-o', 'jsonpath={.spec}');
    assert.doesNotMatch(mc.stdout, /udp:\/\/127\.0\.0\.1:5044/);
    // a JSON patch cannot address a multi-document config, as in Talos; the failure names the node
    const json = await bronzectl('-n', WORKER, 'patch', 'mc', '-p', '[{"op":"add","path":"/machine/env","value":{"A":"1"}}]');
    assert.equal(json.code, 1);
    assert.equal(json.stderr, `error: node ${WORKER}: JSON6902 patches are not supported for multi-document machine configuration\n`);
    const none = await bronzectl('-n', WORKER, 'patch', 'machineconfig');
    assert.match(none.stderr, /either --patch or --patch-file should be defined/);
    assert.match((await bronzectl('-n', WORKER, 'patch', 'hostname', '-p', '{}')).stderr, /only the machineconfig resource can be patched/);
  });

  it('edit machineconfig runs $EDITOR, applies the change, and skips an unchanged or emptied file', { timeout: 60_000 }, async () => {
    const editor = join(dir, 'editor.sh');
    const header = join(dir, 'editor-header');
    writeFileSync(editor, `#!/bin/sh\nhead -1 "$1" > ${header}\nsed -i "s/^hostname: wrk-patched$/hostname: wrk-edited/" "$1"\n`);
    chmodSync(editor, 0o755);
    const e = await runBronzectl(['-n', WORKER, 'edit', 'machineconfig'], { ...env, EDITOR: editor });
    assert.equal(e.code, 0, e.stderr);
    assert.equal(e.stderr, 'Applied configuration without a reboot\n');
    assert.equal(await hostnameOf(WORKER), 'wrk-edited');
    const unchanged = await runBronzectl(['-n', WORKER, 'edit', 'mc'], { ...env, EDITOR: 'true' });
    assert.equal(unchanged.stderr, 'Apply was skipped: no changes detected.\n');
    const empty = await runBronzectl(['-n', WORKER, 'edit', 'mc'], { ...env, EDITOR: `sh -c ': > "$0"'` });
    assert.equal(empty.stderr, 'Apply was skipped: empty file.\n');
    // the editor saw talosctl's header line above the config
    assert.equal(readFileSync(header, 'utf8'), `# Editing MachineConfigs.config.talos.dev/v1alpha1 at node ${WORKER}\n`);
    const failing = await runBronzectl(['-n', WORKER, 'edit', 'mc'], { ...env, EDITOR: 'false' });
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /error: node 127\.79\.8\.3: the editor "false" exited with status 1/);
  });

  it('logs -f streams: lines already logged, then lines logged while it runs', { timeout: 60_000 }, async () => {
    const apid = startCLI(['-n', WORKER, 'logs', '-f', 'apid'], env);
    await apid.waitFor(new RegExp(`^${esc(WORKER)}: .*apid serving`, 'm'));
    const machined = startCLI(['-n', WORKER, 'logs', 'machined', '-f', '--tail', '0'], env);
    // the stream is open before anything happens: a patch makes machined log while it follows
    await new Promise<void>((resolve) => setImmediate(resolve));
    const p = await bronzectl('-n', WORKER, 'patch', 'mc', '-p', 'apiVersion: v1alpha1\nkind: HostnameConfig\nauto: "off"\nhostname: wrk-logged\n');
    assert.equal(p.code, 0, p.stderr);
    await machined.waitFor(new RegExp(`^${esc(WORKER)}: .*apply config request`, 'm'));
    assert.equal(await machined.stop(), 0);
    assert.equal(await apid.stop(), 0);
    assert.equal(apid.stderr, '');
  });

  it('services, memory, processes, mounts, ls, read, cp, netstat, events and inspect answer with real data', { timeout: 60_000 }, async () => {
    const s = await bronzectl('services');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`${esc(CP)} +apid +Running`));
    assert.match(s.stdout, new RegExp(`${esc(WORKER)} +machined +Running`));
    const sj = JSON.parse((await bronzectl('-n', WORKER, 'service', 'apid', '-o', 'json')).stdout) as { node: string; id: string; state: string };
    assert.deepEqual([sj.node, sj.id, sj.state], [WORKER, 'apid', 'Running']);
    const m = await bronzectl('-n', WORKER, 'memory');
    assert.match(m.stdout, new RegExp(`^NODE +TOTAL +USED +FREE +SHARED +BUFFERS +CACHE +AVAILABLE\\n${esc(WORKER)} +[1-9]\\d* `));
    const ps = await bronzectl('-n', WORKER, 'processes', '-o', 'json');
    const procs = (JSON.parse(ps.stdout) as { processes: { pid: number; command: string }[] }).processes;
    assert.ok(procs.some((p) => p.pid === info.nodes[1]!.pid), 'the worker machined is listed');
    const mounts = await bronzectl('-n', WORKER, 'mounts');
    assert.match(mounts.stdout, /^NODE +FILESYSTEM +SIZE\(GB\) +USED\(GB\) +AVAILABLE\(GB\) +PERCENT USED +MOUNTED ON\n/);
    const ls = await bronzectl('-n', WORKER, 'ls', info.nodes[1]!.dir);
    assert.match(ls.stdout, /^config\.yaml$/m);
    const read = await bronzectl('-n', WORKER, 'read', join(info.nodes[1]!.dir, 'config.yaml'));
    assert.equal(read.stdout, readFileSync(join(info.nodes[1]!.dir, 'config.yaml'), 'utf8'));
    // cp: a directory arrives unpacked, a single file under its own name, and `-` writes the .tar.gz itself
    const dest = join(dir, 'copied');
    const cp = await bronzectl('-n', WORKER, 'cp', join(info.nodes[1]!.dir, 'logs'), dest);
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(readFileSync(join(dest, 'apid.log'), 'utf8'), /apid serving/);
    const one = await bronzectl('-n', WORKER, 'copy', join(info.nodes[1]!.dir, 'config.yaml'), join(dir, 'one'));
    assert.equal(one.code, 0, one.stderr);
    assert.ok(existsSync(join(dir, 'one', 'config.yaml')));
    assert.match((await bronzectl('-n', `${CP},${WORKER}`, 'cp', '/etc/hosts', '-')).stderr, /command "copy" is not supported with multiple nodes/);
    const ns = await bronzectl('-n', WORKER, 'netstat', '-l', '-t', '-4');
    assert.match(ns.stdout, /^NODE +Proto +Recv-Q +Send-Q +Local Address +Foreign Address +State\n/);
    assert.match(ns.stdout, new RegExp(`^${esc(WORKER)} +tcp +0 +0 +${esc(WORKER)}:50000 +0\\.0\\.0\\.0:\\* +LISTEN$`, 'm'));
    assert.doesNotMatch(ns.stdout, / tcp6 | udp /);
    // events follows the stream: the boot sequence's events of the past arrive first
    const ev = startCLI(['-n', WORKER, 'events', '--tail', '-1', '-o', 'json'], env);
    await ev.waitFor(/"source":"boot"/);
    assert.equal(await ev.stop(), 0);
    const first = JSON.parse(ev.stdout.split('\n')[0]!) as { node: string; event: string };
    assert.equal(first.node, WORKER);
    assert.match(first.event, /^talos\/runtime\/machine\./);
    const dep = await bronzectl('-n', WORKER, 'inspect', 'dependencies');
    assert.match(dep.stdout, /^digraph/);
  });

  it('errors: a node that is down, an unreachable endpoint, a wrong context and an expired certificate each print one line naming the cause', { timeout: 60_000 }, async () => {
    const down = await bronzectl('-n', `${WORKER},${DOWN}`, 'memory');
    assert.equal(down.code, 1);
    assert.match(down.stdout, new RegExp(`^${esc(WORKER)} `, 'm'));
    assert.equal(down.stderr, `error: node ${DOWN}: connection refused\n`);
    const downGet = await bronzectl('-n', `${DOWN},${WORKER}`, 'get', 'hostname');
    assert.equal(downGet.code, 1);
    assert.match(downGet.stdout, new RegExp(`^${esc(WORKER)} +network +HostnameStatus`, 'm'));
    assert.equal(downGet.stderr, `error: node ${DOWN}: connection refused\n`);
    const downLogs = await bronzectl('-n', `${WORKER},${DOWN}`, 'logs', 'apid', '--tail', '1');
    assert.equal(downLogs.code, 1);
    assert.match(downLogs.stdout, new RegExp(`^${esc(WORKER)}: `));
    assert.equal(downLogs.stderr, `error: node ${DOWN}: connection refused\n`);
    // one-to-one calls name the node behind the endpoint as well
    const downCopy = await bronzectl('-n', DOWN, 'cp', '/etc/hosts', join(dir, 'never'));
    assert.equal(downCopy.code, 1);
    assert.equal(downCopy.stderr, `error: node ${DOWN}: connection refused\n`);
    const downHealth = await bronzectl('health', '--server=false', '--control-plane-nodes', CP, '--worker-nodes', DOWN, '--wait-timeout', '2s', '--skip', 'kubelet');
    assert.equal(downHealth.code, 1);
    assert.match(downHealth.stderr, new RegExp(`\\nwaiting for apid to be ready: ${esc(DOWN)}: connection refused\\nerror: apid to be ready: not done after the wait timeout: ${esc(DOWN)}: connection refused\\n$`));
    // streams: the down node is one line, the other node's events and watch go on, and the exit code is 1
    const downEvents = startCLI(['-n', `${WORKER},${DOWN}`, 'events', '--tail', '1'], env);
    await downEvents.waitFor(new RegExp(`^${esc(WORKER)} +\\S+ +talos/runtime/machine\\.`, 'm'));
    await downEvents.waitFor(new RegExp(`error: node ${esc(DOWN)}: connection refused\\n`), 'stderr');
    assert.equal(await downEvents.stop(), 1);
    assert.equal(downEvents.stderr, `error: node ${DOWN}: connection refused\n`);
    const downWatch = startCLI(['-n', `${DOWN},${WORKER}`, 'get', 'hostname', '-w'], env);
    await downWatch.waitFor(new RegExp(`^${esc(WORKER)} +\\+ +network +HostnameStatus`, 'm'));
    await downWatch.waitFor(new RegExp(`error: node ${esc(DOWN)}: connection refused\\n`), 'stderr');
    assert.equal(await downWatch.stop(), 1);
    assert.equal(downWatch.stderr, `error: node ${DOWN}: connection refused\n`);
    const downRead = await bronzectl('-n', `${WORKER},${DOWN}`, 'read', join(info.nodes[1]!.dir, 'config.yaml'));
    assert.equal(downRead.code, 1);
    assert.equal(downRead.stdout, readFileSync(join(info.nodes[1]!.dir, 'config.yaml'), 'utf8'));
    assert.equal(downRead.stderr, `error: node ${DOWN}: connection refused\n`);
    const endpoint = await bronzectl('-e', DOWN, '-n', WORKER, 'memory');
    assert.equal(endpoint.code, 1);
    assert.equal(endpoint.stderr, `error: endpoint ${DOWN}:50000: connection refused\n`);
    const context = await bronzectl('--context', 'nosuch', 'memory');
    assert.equal(context.code, 1);
    assert.equal(context.stderr, 'error: context "nosuch" is not defined in talosconfig (contexts: cc)\n');

    // a client certificate signed by the right CA, but expired yesterday
    const cp = parseYAML(readFileSync(join(info.nodes[0]!.dir, 'config.yaml'), 'utf8').split('\n---\n')[0]!) as { machine: { ca: { crt: string; key: string } } };
    const ca = loadCA(cp.machine.ca.crt, cp.machine.ca.key);
    const day = 86_400_000;
    const expired = await issueKeyPair(ca, { subject: { organization: ['os:admin'] }, notBefore: new Date(Date.now() - 2 * day), notAfter: new Date(Date.now() - day), extKeyUsage: ['clientAuth'] });
    const cfg = await loadTalosconfig(env.TALOSCONFIG!);
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const ctx = cfg.contexts.cc!;
    writeFileSync(join(dir, 'expired'), serializeTalosconfig({ context: 'old', contexts: { old: { ...ctx, crt: b64(expired.certPEM), key: b64(expired.keyPEM) } } }));
    const old = await runBronzectl(['--talosconfig', join(dir, 'expired'), '-n', WORKER, 'memory'], env);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /^error: the client certificate of context "old" in \S+expired expired at \d{4}-\d\d-\d\dT[\d:]+Z\n$/);
  });

  it('every command takes -o json and -o yaml; stats, containers, time, dmesg, disks and the local commands answer', { timeout: 90_000 }, async () => {
    const structured = async (format: 'json' | 'yaml', ...args: string[]) => {
      const r = await bronzectl(...args, '-o', format);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      // JSON: objects one after the other (indented, or one a line for streams), each starting a line with `{`
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents of many shapes, each checked by the assertions below
      const docs = (format === 'json' ? r.stdout.split(/\n(?=\{)/).filter((t) => t.trim() !== '').map((t) => JSON.parse(t) as unknown) : parseAllDocuments(r.stdout).map((d) => d.toJSON() as unknown)) as Record<string, any>[];
      assert.ok(docs.length > 0, `${args.join(' ')} -o ${format} printed nothing`);
      return docs;
    };
    const one = async (format: 'json' | 'yaml', ...args: string[]) => {
      const docs = await structured(format, ...args);
      assert.equal(docs.length, 1, JSON.stringify(docs));
      return docs[0]!;
    };
    const workerDir = info.nodes[1]!.dir;

    // commands that print data: one document per node, starting with the node
    const services = await structured('yaml', '-n', `${CP},${WORKER}`, 'services');
    assert.deepEqual(services.map((d) => d.node).sort(), [CP, WORKER]);
    for (const d of services) assert.ok(d.services.some((s: { id: string; state: string }) => s.id === 'apid' && s.state === 'Running'), JSON.stringify(d));
    const mem = await one('json', '-n', WORKER, 'memory');
    assert.equal(mem.node, WORKER);
    assert.ok(Number(mem.meminfo.memtotal) > 0);
    const mounts = await one('yaml', '-n', WORKER, 'mounts');
    assert.equal(mounts.node, WORKER);
    assert.ok(mounts.stats.length > 0);
    const ns = await bronzectl('-n', WORKER, 'netstat', '-l', '-t', '-4', '--output', 'json');
    assert.equal(ns.code, 0, ns.stderr);
    const records = (JSON.parse(ns.stdout) as { node: string; connectrecord: { localport: number; state: string }[] }).connectrecord;
    assert.ok(records.some((c) => c.localport === 50000 && c.state === 'LISTEN'), ns.stdout);
    assert.equal((await one('json', '-n', WORKER, 'stats')).node, WORKER);
    assert.equal((await one('yaml', '-n', WORKER, 'containers')).node, WORKER);
    const ls = await structured('yaml', '-n', WORKER, 'ls', workerDir);
    assert.ok(ls.some((f) => f.node === WORKER && String(f.name).endsWith('config.yaml')), JSON.stringify(ls));
    const logs = await structured('json', '-n', WORKER, 'logs', 'apid', '--tail', '2');
    // one object per line; --tail counts the node's last lines, so at most 2 (the newest may still be partial)
    assert.ok(logs.length >= 1 && logs.length <= 2, JSON.stringify(logs));
    assert.ok(logs.every((l) => l.node === WORKER && typeof l.message === 'string' && l.message !== ''), JSON.stringify(logs));
    const dep = await one('json', '-n', WORKER, 'inspect', 'dependencies');
    assert.ok(dep.edges.some((e: { controllerName: string }) => e.controllerName.length > 0));
    const ev = startCLI(['-n', WORKER, 'events', '--tail', '1', '-o', 'yaml'], env);
    await ev.waitFor(/^source: /m);
    assert.equal(await ev.stop(), 0);
    const firstEvent = parseAllDocuments(ev.stdout)[0]!.toJSON() as { node: string; event: string };
    assert.equal(firstEvent.node, WORKER);
    assert.match(firstEvent.event, /^talos\/runtime\/machine\./);

    // time asks the given server; a loopback one answers here
    const ntp = await new LoopbackNTPServer(0).start();
    try {
      const t = await one('json', '-n', WORKER, 'time', '--check', ntp.address);
      assert.deepEqual([t.node, t.server], [WORKER, ntp.address]);
    } finally {
      ntp.stop();
    }
    // a process node has no kernel log and no disks: dmesg fails naming the node, get disks lists none
    const dmesg = await bronzectl('-n', WORKER, 'dmesg');
    assert.equal(dmesg.code, 1);
    assert.equal(dmesg.stderr, `error: node ${WORKER}: rpc error: code = Unimplemented desc = the kernel log is not available on this platform (a process node has no kernel of its own)\n`);
    const disks = await bronzectl('-n', WORKER, 'get', 'disks', '-o', 'json');
    assert.deepEqual([disks.code, disks.stdout, disks.stderr], [0, '', '']);
    assert.match((await bronzectl('-n', WORKER, 'disks', '-o', 'json')).stderr, /use `bronzectl get disks`/);

    // commands without data of their own: what they did, per node
    const read = await one('json', '-n', WORKER, 'read', join(workerDir, 'config.yaml'));
    assert.deepEqual([read.node, read.content], [WORKER, readFileSync(join(workerDir, 'config.yaml'), 'utf8')]);
    const copied = await one('yaml', '-n', WORKER, 'cp', join(workerDir, 'config.yaml'), join(dir, 'cp-o'));
    assert.deepEqual([copied.node, copied.destination], [WORKER, join(dir, 'cp-o')]);
    assert.ok(existsSync(join(dir, 'cp-o', 'config.yaml')));
    const dry = await one('json', '-n', WORKER, 'patch', 'mc', '--dry-run', '-p', '{"machine":{"env":{"OUTPUT_TEST":"1"}}}');
    assert.deepEqual([dry.node, dry.mode, dry.dryRun], [WORKER, 'NO_REBOOT', true]);
    assert.match(dry.modeDetails, /Dry run summary/);
    const applied = await one('yaml', '-n', WORKER, 'apply-config', '--dry-run', '-f', join(workerDir, 'config.yaml'));
    assert.deepEqual([applied.node, applied.dryRun], [WORKER, true]);
    const unchanged = await runBronzectl(['-n', WORKER, 'edit', 'mc', '-o', 'json'], { ...env, EDITOR: 'true' });
    assert.deepEqual(JSON.parse(unchanged.stdout), { node: WORKER, skipped: 'no changes detected' });
    const kc = await one('json', '-n', CP, 'kubeconfig', join(dir, 'kc'));
    assert.deepEqual([kc.node, kc.path, kc.merged], [CP, join(dir, 'kc'), false]);
    assert.match(readFileSync(join(dir, 'kc'), 'utf8'), /kind: Config/);
    const badFormat = await bronzectl('-n', WORKER, 'reboot', '-o', 'xml');
    assert.equal(badFormat.code, 1);
    assert.match(badFormat.stderr, /^error: --output: unknown format "xml" \(one of: text, json, yaml\)\n/);

    // local commands
    const copy = join(dir, 'talosconfig-copy');
    writeFileSync(copy, readFileSync(env.TALOSCONFIG!));
    const node = await one('json', '--talosconfig', copy, 'config', 'node', WORKER);
    assert.deepEqual([node.context, node.nodes], ['cc', [WORKER]]);
    assert.deepEqual((await loadTalosconfig(copy)).contexts.cc!.nodes, [WORKER]);
    const contexts = await structured('yaml', '--talosconfig', copy, 'config', 'contexts');
    assert.ok(contexts.length > 0);
    const key = await one('yaml', 'gen', 'key', '--name', join(dir, 'gen-o'));
    assert.deepEqual(key.files, [join(dir, 'gen-o.key')]);
    assert.match(readFileSync(join(dir, 'gen-o.key'), 'utf8'), /PRIVATE KEY/);
    const completion = await one('json', 'completion', 'bash');
    assert.equal(completion.shell, 'bash');
    assert.match(completion.script, /^# bash completion for bronzectl\n__bronzectl_complete\(\) \{\n/);
  });

  it('validate -o json says the node config is valid for its mode', { timeout: 30_000 }, async () => {
    const r = await bronzectl('validate', '-c', join(info.nodes[1]!.dir, 'config.yaml'), '-m', 'container', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    const valid = JSON.parse(r.stdout) as { config: string; mode: string; valid: boolean; warnings: string[] };
    assert.deepEqual([valid.config, valid.mode, valid.valid], [join(info.nodes[1]!.dir, 'config.yaml'), 'container', true]);
  });

  it('health reports each check as it passes once etcd is bootstrapped, run on the control plane or in bronzectl', { timeout: 150_000 }, async () => {
    const b = await bronzectl('-n', CP, 'bootstrap', '-o', 'json');
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout), { node: CP, bootstrapped: true, recovered: false });
    // the kubelet runs only where its image can be pulled: skipped here, and checked on its own below
    const h = await bronzectl('health', '--wait-timeout', '90s', '--skip', 'kubelet');
    assert.equal(h.code, 0, h.stderr);
    // the checks ran on the control plane (the context's nodes sorted by their type), each line as it streamed
    assert.match(h.stderr, new RegExp(`^discovered nodes: \\["${esc(CP)}" "${esc(WORKER)}"\\]\\n`));
    assert.deepEqual(h.stderr.split('\n').filter((l) => l.endsWith(': OK')), SERVER_HEALTH_OK_LINES);
    const local = await bronzectl('health', '--server=false', '--wait-timeout', '90s', '--skip', 'kubelet');
    assert.equal(local.code, 0, local.stderr);
    const oks = local.stderr.split('\n').filter((l) => l.endsWith(': OK'));
    assert.deepEqual(oks, [
      'waiting for apid to be ready: OK',
      'waiting for all nodes to finish boot sequence: OK',
      'waiting for etcd to be healthy: OK',
      'waiting for etcd members to be consistent across nodes: OK',
      'waiting for all services to be running and healthy: OK',
      'waiting for time to be synced: OK',
    ]);
    assert.match(local.stderr, new RegExp(`^discovered nodes: control plane: ${esc(CP)}; worker: ${esc(WORKER)}\\n`));
    const explicit = await bronzectl('health', '--control-plane-nodes', CP, '--worker-nodes', WORKER, '--wait-timeout', '30s', '--skip', 'kubelet', '-o', 'yaml');
    assert.equal(explicit.code, 0, explicit.stderr);
    // -o yaml: one document per progress line, the checks that passed with their result
    const passed = parseAllDocuments(explicit.stdout)
      .map((d) => d.toJSON() as { node: string; check?: string; result?: string })
      .filter((d) => d.result === 'OK');
    assert.deepEqual(passed.map((d) => `waiting for ${d.check}: OK`), SERVER_HEALTH_OK_LINES);
    assert.ok(passed.every((d) => d.node === CP));
    // a worker does not run the checks: Talos's error, passed on by bronzectl
    const onWorker = await bronzectl('-n', WORKER, 'health', '--control-plane-nodes', CP, '--worker-nodes', WORKER, '--wait-timeout', '10s');
    assert.equal(onWorker.code, 1);
    assert.match(onWorker.stderr, /^error: healthcheck error: rpc error: code = Unimplemented desc = cluster health check is only available on control plane nodes\n$/);
    const kubelet = await bronzectl('health', '--wait-timeout', '3s');
    if (kubelet.code !== 0) assert.match(kubelet.stderr, new RegExp(`\\nwaiting for kubelet to be healthy: 1 error occurred:\\n\\t\\* ${esc(CP)}: [^\\n]+\\nerror: healthcheck error: rpc error: code = DeadlineExceeded desc = context deadline exceeded\\n$`));
    assert.match((await bronzectl('health', '--skip', 'etcd')).stderr, /--skip: unknown check "etcd" \(one of: kubelet\)/);
  });

  it('reboot -n <worker> restarts that node and health passes again', { timeout: 150_000 }, async () => {
    const before = await bootId(WORKER);
    const cpBoot = await bootId(CP);
    const r = await bronzectl('-n', WORKER, 'reboot', '--timeout', '90s', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${esc(WORKER)}: rebooted\\n$`));
    const result = JSON.parse(r.stdout) as { node: string; action: string; state: string; actorId: string };
    assert.deepEqual([result.node, result.action, result.state], [WORKER, 'reboot', 'rebooted']);
    assert.notEqual(await bootId(WORKER), before);
    assert.equal(await bootId(CP), cpBoot);
    const h = await bronzectl('health', '--wait-timeout', '90s', '--skip', 'kubelet');
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stderr, /\nwaiting for time to be synced: OK\n/);
  });
});
