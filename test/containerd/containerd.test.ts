import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HTTPServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import pino from 'pino';
import { ContainerDriver, ContainerdNamespace } from '../../src/api/gen/common/common.js';
import { ContainerState, CreateContainerRequest, NamespaceMode, RunPodSandboxRequest, StartContainerRequest } from '../../src/api/gen/containerd/cri/api.js';
import { ImageServiceClient, ImageServiceService } from '../../src/api/gen/machine/image.js';
import { MachineServiceService } from '../../src/api/gen/machine/machine.js';
import { loadConfig } from '../../src/config/loader.js';
import { InMemoryState } from '../../src/cosi/inmem.js';
import { State } from '../../src/cosi/state.js';
import { ContainerdClient, K8sNamespace, SystemNamespace } from '../../src/machined/containerd/client.js';
import { containerHandlers, containerLogs, imageService } from '../../src/machined/containerd/handlers.js';
import { importOCIArchive } from '../../src/machined/containerd/images.js';
import { ContainerRunner } from '../../src/machined/containerd/runner.js';
import { LogManager } from '../../src/machined/logs/index.js';
import { containerdService, criContainerdAddress, criService, type ServiceContext, systemContainerdAddress, which } from '../../src/machined/services/index.js';
import { kubeletPathsOf, kubeletService, retryWhenFailed, writeKubeletFiles } from '../../src/machined/services/kubelet.js';
import { kubeletConfigFrom } from '../../src/controllers/k8s/kubelet-config.js';
import { kubeletSpecFrom } from '../../src/controllers/k8s/kubelet-spec.js';
import type { RegistriesConfig } from '../../src/machined/containerd/registry.js';
import { RestartRunner, ServiceState, Supervisor } from '../../src/machined/supervisor/index.js';
import { bronzectl } from '../helpers/bronzectl.js';
import { makeTestPKI, type TestPKI } from '../helpers/openssl-pki.js';
import { BUSYBOX, buildBusyboxImage, type BuiltImage } from './oci-image.js';

const skip =
  process.getuid?.() !== 0
    ? 'containerd needs root'
    : !which('containerd') || !which('runc')
      ? 'containerd and runc are not installed (make deps)'
      : !BUSYBOX
        ? 'a static busybox is needed to build the test image (Debian package busybox-static)'
        : false;

/** Resolves when `pred` holds for the service (checked on every change), or rejects after `ms`. */
function waitService(sv: Supervisor, id: string, pred: () => boolean, ms: number, what: string): Promise<void> {
  const svc = sv.get(id);
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      unwatch();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${id}: ${what} not seen within ${ms} ms; events: ${JSON.stringify(svc.events().map((e) => e.msg))}`));
    }, ms);
    const unwatch = svc.watch(() => {
      if (pred()) {
        done();
        resolve();
      }
    });
    if (pred()) {
      done();
      resolve();
    }
  });
}

describe('containerd under the supervisor', { skip, timeout: 180_000 }, () => {
  let dir: string;
  let sv: Supervisor;
  let ctx: ServiceContext;
  let logs: LogManager;
  let image: BuiltImage;
  let registry: HTTPServer;
  let registryURL: string;
  let api: Server;
  let pki: TestPKI;
  let talosconfig: string;
  let apiSocket: string;
  const retryAc = new AbortController();
  const mirrorHost = 'registry.bronze.test';
  const cli = (...args: string[]) => bronzectl(['--talosconfig', talosconfig, ...args], { HOME: dir });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-containerd-'));
    image = buildBusyboxImage(join(dir, 'image'), 'docker.io/bronze/busybox:test', ['/bin/sh', '-c', 'echo started; trap "exit 0" TERM; sleep 3600 & wait']);
    // a registry serving the image as bronze/busybox:1 (the mirror of registry.bronze.test in the config)
    registry = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/v2\/bronze\/busybox\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
      if (url.pathname === '/v2/' || url.pathname === '/v2') return res.end('{}');
      if (!m) return res.writeHead(404).end();
      const [, kind, ref] = m;
      if (kind === 'manifests' && (ref === '1' || ref === image.manifestDigest)) {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': image.manifestDigest });
        return res.end(image.manifest);
      }
      if (kind === 'blobs' && /^sha256:[0-9a-f]{64}$/.test(ref)) {
        try {
          return res.end(readFileSync(join(image.layout, 'blobs', 'sha256', ref.slice(7))));
        } catch {
          // unknown blob
        }
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
    registryURL = `http://127.0.0.1:${(registry.address() as { port: number }).port}`;

    const node = join(dir, 'clusters', 'a-cluster-with-a-long-name', 'a-node-with-a-long-name-as-well');
    logs = new LogManager({ directory: join(dir, 'logs') });
    const logger = pino({ level: 'silent' });
    ctx = {
      state: new State(new InMemoryState()),
      logs,
      logger,
      // a state directory as deep as one in a home directory: the sockets are too long for sun_path as they are
      paths: { systemRun: join(node, 'system', 'run'), systemVar: join(node, 'system', 'var'), run: join(node, 'run'), etc: join(node, 'etc'), var: join(node, 'var') },
      which,
    };
    sv = new Supervisor({ logger });
    const registries = { mirrors: { [mirrorHost]: { endpoints: [registryURL], skipFallback: true } } };
    await sv.loadAndStart(containerdService(ctx), criService(ctx, { registries: async () => registries, sandboxImage: image.name }));
    await sv.waitUp(['containerd', 'cri'], AbortSignal.timeout(30_000));

    // the container and image APIs over mTLS (the CLI) and a unix socket (streaming import)
    const deps = { addresses: { system: systemContainerdAddress(ctx), cri: criContainerdAddress(ctx) }, registries: async () => registries, logger };
    pki = makeTestPKI();
    api = new Server({ 'grpc.max_receive_message_length': 32 << 20 });
    api.addService(MachineServiceService, containerHandlers(deps) as UntypedServiceImplementation);
    api.addService(ImageServiceService, imageService(deps));
    const creds = ServerCredentials.createSsl(Buffer.from(pki.caCrt), [{ cert_chain: Buffer.from(pki.serverCrt), private_key: Buffer.from(pki.serverKey) }], true);
    const port = await new Promise<number>((resolve, reject) => api.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
    apiSocket = join(dir, 'api.sock');
    await new Promise<void>((resolve, reject) => api.bindAsync(`unix:${apiSocket}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    talosconfig = join(dir, 'talosconfig');
    writeFileSync(talosconfig, `context: t\ncontexts:\n  t:\n    endpoints:\n      - 127.0.0.1:${port}\n    ca: ${b64(pki.caCrt)}\n    crt: ${b64(pki.clientCrt)}\n    key: ${b64(pki.clientKey)}\n`);
  });

  after(async () => {
    retryAc.abort();
    await sv?.shutdown();
    api?.forceShutdown();
    registry?.close();
    pki?.cleanup();
    await logs?.close();
    // nothing of ours may stay mounted or running
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => dir && l.includes(dir));
    for (const l of mounts.reverse()) execFileSync('umount', ['-l', l.split(' ')[1]]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(mounts, [], 'containerd left mounts behind');
  });

  test('both instances run as supervised processes in the test directories and answer over their sockets', async () => {
    for (const [id, address] of [
      ['containerd', systemContainerdAddress(ctx)],
      ['cri', criContainerdAddress(ctx)],
    ] as const) {
      assert.equal(sv.get(id).getState(), ServiceState.Running);
      // the socket is in the node's directory, reached through a short link
      assert.ok(join(dir, 'clusters').length + '/a-cluster-with-a-long-name/a-node-with-a-long-name-as-well/system/run/containerd/containerd.sock.ttrpc'.length > 107);
      assert.ok(address.length + '.ttrpc'.length <= 107, address);
      const real = join(id === 'cri' ? ctx.paths.run : ctx.paths.systemRun, 'containerd');
      assert.equal(realpathSync(dirname(address)), real);
      assert.ok(lstatSync(join(real, 'containerd.sock')).isSocket() && lstatSync(join(real, 'containerd.sock.ttrpc')).isSocket());
      const c = new ContainerdClient(address, SystemNamespace);
      try {
        assert.match((await c.call(c.version, c.version.version, {})).version, /^1\.6\./);
      } finally {
        c.close();
      }
    }
    assert.match(readFileSync(join(ctx.paths.etc, 'cri', 'conf.d', 'hosts', mirrorHost, 'hosts.toml'), 'utf8'), new RegExp(`\\[host\\."${registryURL}"\\]`));
  });

  test('an OCI archive is imported (helper and ImageService.Import) and listed by `image list`', async () => {
    const c = new ContainerdClient(systemContainerdAddress(ctx), SystemNamespace);
    try {
      assert.deepEqual(await importOCIArchive(c, image.archive), [image.name]);
    } finally {
      c.close();
    }
    // the same archive through the API, into the CRI containerd's k8s.io namespace
    const client = new ImageServiceClient(`unix:${apiSocket}`, credentials.createInsecure());
    try {
      const name = await new Promise<string>((resolve, reject) => {
        const call = client.import(new Metadata(), (e, r) => (e ? reject(e) : resolve(r.name)));
        call.write({ containerd: { driver: ContainerDriver.CRI, namespace: ContainerdNamespace.NS_CRI } });
        for (let off = 0; off < image.archive.length; off += 1 << 20) call.write({ imageChunk: { metadata: undefined, bytes: image.archive.subarray(off, off + (1 << 20)) } });
        call.end();
      });
      assert.equal(name, image.name);
    } finally {
      client.close();
    }
    const inmem = await cli('image', 'list', '--namespace', 'inmem');
    assert.equal(inmem.code, 0, inmem.stderr);
    const lines = inmem.stdout.trim().split('\n');
    assert.match(lines[0], /^NODE\s+IMAGE\s+DIGEST\s+SIZE\s+LABELS\s+CREATED$/);
    const row = lines.find((l) => l.includes(image.name));
    assert.ok(row, inmem.stdout);
    assert.ok(row.startsWith('127.0.0.1'), row);
    assert.ok(row.includes(image.manifestDigest), row);
    const cri = await cli('image', 'list');
    assert.ok(cri.stdout.includes(image.name), cri.stdout);
  });

  test('`image pull` fetches through the registry mirror of the config', async () => {
    const r = await cli('image', 'pull', '--namespace', 'system', `${mirrorHost}/bronze/busybox:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `127.0.0.1: pulled image ${mirrorHost}/bronze/busybox@${image.manifestDigest}`);
    const list = await cli('image', 'list', '--namespace', 'system');
    assert.ok(list.stdout.includes(`${mirrorHost}/bronze/busybox:1`), list.stdout);
    const missing = await cli('image', 'pull', '--namespace', 'system', `${mirrorHost}/bronze/nothing:1`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NotFound|not found/i);
  });

  test('a container runs as a service; `containers`, `stats` show it and `restart` restarts it', async () => {
    sv.load({
      id: 'bbtest',
      runner: () =>
        new RestartRunner(new ContainerRunner({ id: 'bbtest', address: systemContainerdAddress(ctx), namespace: SystemNamespace, image: image.name, spec: { hostNetwork: true }, fifoDir: join(dir, 'fifo'), log: logs.serviceLog('bbtest'), gracefulShutdownTimeout: 3000 }), {
          policy: 'Forever',
          initialDelay: 100,
        }),
    });
    await sv.start('bbtest');
    await waitService(sv, 'bbtest', () => sv.get('bbtest').getState() === ServiceState.Running, 30_000, 'Running');
    const pidOf = () => Number(/\(PID (\d+)\)/.exec(sv.get('bbtest').events().filter((e) => e.msg.startsWith('Started task')).pop()?.msg ?? '')?.[1]);
    const pid = pidOf();
    assert.ok(pid > 0);

    const list = await cli('containers');
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.match(lines[0], /^NODE\s+NAMESPACE\s+ID\s+IMAGE\s+PID\s+STATUS$/);
    const row = lines.find((l) => / bbtest /.test(l))?.split(/\s+/);
    assert.deepEqual(row, ['127.0.0.1', 'system', 'bbtest', image.name, String(pid), 'RUNNING']);

    const stats = await cli('stats');
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout.split('\n')[0], /^NODE\s+NAMESPACE\s+ID\s+MEMORY\(MB\)\s+CPU$/);
    const srow = stats.stdout.split('\n').find((l) => / bbtest /.test(l))?.split(/\s+/);
    assert.ok(srow, stats.stdout);
    assert.ok(Number(srow[3]) > 0, `memory ${srow[3]}`);
    assert.ok(Number(srow[4]) > 0, `cpu ${srow[4]}`);

    const restart = await cli('restart', 'bbtest');
    assert.equal(restart.code, 0, restart.stderr);
    await waitService(sv, 'bbtest', () => pidOf() !== pid && sv.get('bbtest').getState() === ServiceState.Running, 30_000, 'a new task');
    assert.notEqual(pidOf(), pid);
    const again = await cli('containers');
    assert.ok(again.stdout.includes(String(pidOf())), again.stdout);
    const missing = await cli('restart', 'nothing-here');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /container "nothing-here" not found/);
    await sv.stop('bbtest');
    const gone = await cli('containers');
    assert.ok(!/ bbtest /.test(gone.stdout), gone.stdout);
  });

  test('a Kubernetes container in k8s.io: its log file, found from its sandbox log directory, is read, tailed and followed', async () => {
    // a container labelled as Kubernetes' CRI plugin labels its own, with its sandbox's log directory
    const logDir = join(dir, 'pod-logs', 'edge_web_0123');
    mkdirSync(join(logDir, 'app'), { recursive: true });
    const logFile = join(logDir, 'app', '0.log');
    writeFileSync(logFile, '2026-12-05T10:00:00.000000000Z stdout F one\n2026-12-05T10:00:01.000000000Z stderr F two\n');
    const cri = new ContainerdClient(criContainerdAddress(ctx), K8sNamespace);
    try {
      await importOCIArchive(cri, image.archive);
    } finally {
      cri.close();
    }
    sv.load({
      id: 'k8sapp',
      runner: () =>
        new ContainerRunner({
          id: 'k8sapp',
          address: criContainerdAddress(ctx),
          namespace: K8sNamespace,
          image: image.name,
          labels: { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'edge', 'io.kubernetes.container.name': 'app' },
          spec: { hostNetwork: true, annotations: { 'io.kubernetes.cri.sandbox-log-directory': logDir } },
          fifoDir: join(dir, 'fifo'),
          log: logs.serviceLog('k8sapp'),
          gracefulShutdownTimeout: 3000,
        }),
    });
    await sv.start('k8sapp');
    await waitService(sv, 'k8sapp', () => sv.get('k8sapp').getState() === ServiceState.Running, 30_000, 'Running');
    const deps = { addresses: { system: systemContainerdAddress(ctx), cri: criContainerdAddress(ctx) }, registries: async () => undefined, logger: pino({ level: 'silent' }) };
    const ac = new AbortController();
    try {
      const req = { namespace: K8sNamespace, driver: ContainerDriver.CONTAINERD, id: 'edge/web:app', follow: true, tailLines: 1 };
      const it = containerLogs(deps, req, ac.signal)[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.toString(), '2026-12-05T10:00:01.000000000Z stderr F two\n');
      const next = it.next();
      appendFileSync(logFile, '2026-12-05T10:00:02.000000000Z stdout F three\n');
      assert.equal((await next).value?.toString(), '2026-12-05T10:00:02.000000000Z stdout F three\n');
      ac.abort();
      await it.return?.(undefined);
      // a container that is not there, and one that has no log of its own
      await assert.rejects(async () => {
        for await (const _ of containerLogs(deps, { ...req, id: 'edge/none:app', follow: false }, AbortSignal.timeout(10_000)));
      }, /container "edge\/none:app" not found/);
    } finally {
      ac.abort();
      await sv.stop('k8sapp');
    }
  });

  test('a pod through the CRI: `containers -k` and `stats -k` show it, its log is read through the CRI, `restart -k` stops its container', async () => {
    const cri = new ContainerdClient(criContainerdAddress(ctx), K8sNamespace);
    const rt = cri.criRuntime;
    const logDir = join(dir, 'pod-logs', 'edge_cri-web_uid1');
    let sandboxId = '';
    try {
      await importOCIArchive(cri, image.archive);
      // host network: no CNI here. The hostname stays empty: with the host's UTS namespace runc refuses to set one
      const namespaceOptions = { network: NamespaceMode.NODE, pid: NamespaceMode.POD, ipc: NamespaceMode.POD };
      ({ podSandboxId: sandboxId } = await cri.call(
        rt,
        rt.runPodSandbox,
        RunPodSandboxRequest.fromPartial({ config: { metadata: { name: 'cri-web', namespace: 'edge', uid: 'uid1' }, logDirectory: logDir, linux: { securityContext: { namespaceOptions } } } }),
        { timeoutMs: 60_000 },
      ));
      const sandboxConfig = { metadata: { name: 'cri-web', namespace: 'edge', uid: 'uid1' }, logDirectory: logDir, linux: { securityContext: { namespaceOptions } } };
      const { containerId } = await cri.call(
        rt,
        rt.createContainer,
        CreateContainerRequest.fromPartial({
          podSandboxId: sandboxId,
          config: { metadata: { name: 'app' }, image: { image: image.name }, command: ['/bin/sh', '-c', 'echo hello from app; trap "exit 0" TERM; sleep 3600 & wait'], logPath: 'app/0.log', linux: { securityContext: { namespaceOptions } } },
          sandboxConfig,
        }),
        { timeoutMs: 60_000 },
      );
      await cri.call(rt, rt.startContainer, StartContainerRequest.fromPartial({ containerId }), { timeoutMs: 60_000 });

      const list = await cli('containers', '-k');
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout.split('\n')[0], /^NODE\s+NAMESPACE\s+ID\s+IMAGE\s+PID\s+STATUS$/);
      const rows = list.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).join(' '));
      // the pod, and its container under it
      assert.ok(rows.some((r) => new RegExp(`^127\\.0\\.0\\.1 k8s\\.io edge/cri-web ${image.name} \\d+ SANDBOX_READY$`).test(r)), list.stdout);
      assert.ok(rows.some((r) => new RegExp(`^127\\.0\\.0\\.1 k8s\\.io └─ edge/cri-web:app:${containerId.slice(0, 12)} ${image.name} [1-9]\\d* CONTAINER_RUNNING$`).test(r)), list.stdout);

      const stats = await cli('stats', '-k');
      assert.equal(stats.code, 0, stats.stderr);
      assert.match(stats.stdout.split('\n')[0], /^NODE\s+NAMESPACE\s+ID\s+MEMORY\(MB\)\s+CPU$/);
      assert.ok(stats.stdout.includes(`edge/cri-web:app:${containerId.slice(0, 12)}`), stats.stdout);

      // the log the CRI writes (its own format), found from the CRI's log path
      const deps = { addresses: { system: systemContainerdAddress(ctx), cri: criContainerdAddress(ctx) }, registries: async () => undefined, logger: pino({ level: 'silent' }) };
      let text = '';
      for await (const chunk of containerLogs(deps, { namespace: K8sNamespace, driver: ContainerDriver.CRI, id: 'edge/cri-web:app', follow: false, tailLines: -1 }, AbortSignal.timeout(10_000))) text += chunk.toString();
      assert.match(text, /^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hello from app\n$/);

      const restart = await cli('restart', '-k', 'edge/cri-web:app');
      assert.equal(restart.code, 0, restart.stderr);
      const after = await cri.call(rt, rt.containerStatus, { containerId, verbose: false });
      assert.equal(after.status?.state, ContainerState.CONTAINER_EXITED);
      const missing = await cli('restart', '-k', 'default/none:work');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /container "default\/none:work" not found/);
    } finally {
      if (sandboxId) {
        await cri.call(rt, rt.stopPodSandbox, { podSandboxId: sandboxId }, { timeoutMs: 60_000 }).catch(() => undefined);
        await cri.call(rt, rt.removePodSandbox, { podSandboxId: sandboxId }, { timeoutMs: 60_000 }).catch(() => undefined);
      }
      cri.close();
    }
  });

  test('with a kubelet image that does not exist the kubelet is Failed with the pull error, retried, and nothing else suffers', async () => {
    const cfg = loadConfig(
      [
        'version: v1alpha1',
        'machine:',
        '  type: worker',
        '  token: abc.def',
        '  kubelet:',
        `    image: ${mirrorHost}/siderolabs/kubelet:v0.0.0-missing`,
        '  registries:',
        '    mirrors:',
        `      ${mirrorHost}:`,
        '        endpoints:',
        `          - ${registryURL}`,
        '        skipFallback: true',
        'cluster:',
        '  controlPlane:',
        '    endpoint: https://127.0.0.1:6443',
        '  token: abcdef.0123456789abcdef',
        '',
      ].join('\n'),
    );
    // what the k8s controllers make of the config: the spec, and the files written before the service starts
    const paths = kubeletPathsOf(ctx.paths);
    const spec = kubeletSpecFrom(kubeletConfigFrom(cfg)!, { machineType: 'worker', nodename: 'node-1', nodeIPs: ['127.0.0.1'] }, paths, 'container')!;
    await writeKubeletFiles(paths, spec, { endpoint: 'https://127.0.0.1:6443', caCrt: '', token: 'abcdef.0123456789abcdef' });
    const def = kubeletService(ctx, { spec: async () => spec, registries: async () => cfg.v1alpha1?.machine?.registries as RegistriesConfig | undefined });
    // time and network are the controllers' business, not this test's
    sv.load({ ...def, condition: undefined });
    await sv.start('kubelet');
    retryWhenFailed(sv, 'kubelet', retryAc.signal, { initialDelay: 200, maxDelay: 400 });
    const failures = () => sv.get('kubelet').events().filter((e) => e.state === ServiceState.Failed);
    await waitService(sv, 'kubelet', () => failures().length >= 2, 30_000, 'two failed starts');
    const msg = failures()[0].msg;
    assert.match(msg, new RegExp(`^Failed to run pre stage: failed to pull image "${mirrorHost}/siderolabs/kubelet:v0.0.0-missing": ${registryURL.replace(/[.]/g, '\\.')}: not found`));
    const list = sv.listProto().find((s) => s.id === 'kubelet');
    assert.equal(list?.state, 'Failed');
    assert.match(readFileSync(join(ctx.paths.etc, 'kubernetes', 'kubelet.yaml'), 'utf8'), /^kind: KubeletConfiguration$/m);
    // a kubelet tagged older than 1.27 is told the CRI endpoint by flag
    assert.ok(spec.args.includes(`--container-runtime-endpoint=unix://${criContainerdAddress(ctx)}`), spec.args.join(' '));
    for (const id of ['containerd', 'cri']) assert.equal(sv.get(id).getState(), ServiceState.Running, id);
    retryAc.abort();
    await sv.stop('kubelet');
  });
});
