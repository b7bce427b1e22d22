import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadTalosconfig } from '../../src/client/talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { loadConfig } from '../../src/config/loader.js';
import { issueKeyPair, loadCA } from '../../src/pki/index.js';
import { type ClusterInfo, readCluster } from '../../src/provision/process.js';
import { bronzectl, destroyProcessCluster } from '../helpers/bronzectl.js';
import { freePort } from '../helpers/ports.js';
import { waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;
const CIDR = '127.77.30.0/24';
const [CP, W1, W2] = ['127.77.30.2', '127.77.30.3', '127.77.30.4'];
const MiB = 1024 * 1024;
/** Debian's interpreter, which has python3-grpcio and python3-protobuf (another python3 may come first on PATH) */
const PYTHON = '/usr/bin/python3';
/** Debian's Go and the Go packages the Go client builds against, in GOPATH mode (no module download) */
const GO_ENV = { GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '-buildvcs=false' };

interface Step {
  name: string;
  path: string;
  request?: unknown;
  metadata?: [string, string][];
  timeout?: number;
  stream?: boolean;
  fill?: { field: string; bytes?: number; file?: string };
  until_hostnames?: string[];
  max_messages?: number;
  count?: boolean;
  parallel?: number;
}
interface Result {
  name: string;
  ok: boolean;
  code?: string;
  details?: string;
  cancelled?: boolean;
  messages: Msg[];
  /** with `count`: how many messages came, the length of their `bytes` fields, and their SHA-256 per node; with `parallel`: how many calls were answered */
  count?: number;
  bytes?: number;
  sha256?: Record<string, string>;
}
/** The fields of the answers (proto3 JSON) that the tests read */
interface Msg {
  metadata?: { hostname: string };
  messages?: Msg[];
  version?: { tag: string };
  platform?: { name: string };
  features?: { rbac: boolean };
  hostname?: string;
  bytes?: string;
  mode?: string;
  crt?: string;
  resource?: PBResource;
  event?: { event_type?: string; resource?: PBResource; bookmark?: string }[];
}
interface PBResource {
  metadata: { namespace: string; type: string; id: string; version: string; created?: string };
  spec: { yaml_spec: string };
}

const run = (cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv, cwd?: string) =>
  new Promise<string>((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * MiB, timeout: 120_000, env: { ...process.env, ...env }, cwd }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin!.end(input ?? '');
  });

/** Talos writes Ed25519 keys under its own PEM label; the content is PKCS #8, which other TLS stacks read as such. */
const pkcs8 = (pem: string) => pem.replace(/(BEGIN|END) ED25519 PRIVATE KEY/g, '$1 PRIVATE KEY');

/**
 * Makes what the clients need in `dir`: the Python modules and the descriptor set protoc makes from proto/, and the
 * Go client, built offline; checks that Debian's python3 has its gRPC modules (make deps installs them).
 */
async function prepareClients(dir: string): Promise<{ gen: string; descriptors: string; goClient: string }> {
  const gen = join(dir, 'gen');
  mkdirSync(gen);
  const protos = ['common/common.proto', 'google/rpc/status.proto', 'machine/machine.proto', 'cosi/meta.proto', 'cosi/resource.proto', 'cosi/state.proto', 'security/security.proto'];
  const include = ['-I', join(root, 'proto'), '-I', '/usr/include'];
  const descriptors = join(dir, 'api.binpb');
  await run('protoc', [...include, `--python_out=${gen}`, ...protos]);
  await run('protoc', [...include, '--include_imports', `--descriptor_set_out=${descriptors}`, ...protos]);
  await run(PYTHON, ['-c', 'import grpc, google.protobuf']);
  const goClient = join(dir, 'go-client');
  await run('go', ['build', '-o', goClient, '.'], undefined, { ...GO_ENV, GOCACHE: join(dir, 'gocache') }, join(root, 'test/interop/go-client'));
  return { gen, descriptors, goClient };
}

/** The clients, made once for the whole file in a directory of their own */
let toolsDir: string | undefined;
let prepared: ReturnType<typeof prepareClients> | undefined;
const clientsBuilt = () => (prepared ??= prepareClients((toolsDir = mkdtempSync(join(tmpdir(), 'bronze-foreign-tools-')))));
after(() => {
  if (toolsDir) rmSync(toolsDir, { recursive: true, force: true });
});

/** The results a client printed, one JSON line per step */
const results = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Result);

/** Whose certificate a call goes with */
type Who = 'admin' | 'reader' | 'anonymous';

/**
 * Clients that share no code with the project drive a three-node process cluster through the control plane's apid:
 * grpc-go with Go's crypto/tls (the stack talosctl is built on; dynamic messages from a descriptor set protoc made
 * from the project's .proto files), and gRPC's C core through Debian's python3-grpcio (message classes protoc
 * generated from the same files). Their HTTP/2, HPACK, TLS 1.3 with a client certificate, deadlines and metadata (a
 * repeated `nodes` key goes out as separate header fields, as talosctl sends it) must all be understood.
 */
describe('foreign gRPC clients against a process cluster', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let info: ClusterInfo | undefined;
  let gen: string;
  let goClient: string;
  let descriptors: string;
  /** PEM files per caller: Go reads Talos's key label as talosctl does, the C core is given PKCS #8 */
  const creds = new Map<string, { crt?: string; key?: string }>();
  let caFile: string;
  /** the cluster's join token (machine.token) */
  let token: string;

  const clients = {
    /** gRPC's C core (Python) */
    'grpc-core': async (steps: Step[], who: Who, endpoint: string) => {
      const plan = { endpoint, tls: { ca: caFile, ...creds.get(`${who}.pkcs8`) }, steps };
      return await run(PYTHON, [join(root, 'test/interop/grpc-core-client.py'), gen], JSON.stringify(plan));
    },
    /** grpc-go and crypto/tls */
    'grpc-go': async (steps: Step[], who: Who, endpoint: string) => {
      const plan = { endpoint, descriptors, tls: { ca: caFile, ...creds.get(who) }, steps };
      return await run(goClient, [], JSON.stringify(plan));
    },
  };
  const answers = (r: Result) => r.messages[0]!.messages!;
  const hostnamesOf = (r: Result) => answers(r).map((m) => m.metadata?.hostname ?? '');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-foreign-'));
    ({ gen, descriptors, goClient } = await clientsBuilt());

    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig') };
    const r = await bronzectl(['cluster', 'create', '--name', 'foreign', '--state', join(dir, 'clusters'), '--cidr', CIDR, '--controlplanes', '1', '--workers', '2', '--wait-timeout', '3m'], env);
    assert.equal(r.code, 0, r.stderr);
    info = readCluster(join(dir, 'clusters'), 'foreign');
    assert.deepEqual(info.nodes.map((n) => n.address), [CP, W1, W2]);

    const ctx = (await loadTalosconfig(join(dir, 'talosconfig'))).contexts.foreign!;
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    const write = (name: string, pem: string) => {
      writeFileSync(join(dir, name), pem);
      return join(dir, name);
    };
    const keep = (who: Who, crt: string, key: string) => {
      creds.set(who, { crt: write(`${who}.crt`, crt), key: write(`${who}.key`, key) });
      creds.set(`${who}.pkcs8`, { crt: join(dir, `${who}.crt`), key: write(`${who}.pkcs8.key`, pkcs8(key)) });
    };
    caFile = write('ca.pem', b64(ctx.ca!));
    keep('admin', b64(ctx.crt!), b64(ctx.key!));
    const cfg = loadConfig(readFileSync(join(dir, 'clusters', 'foreign', info.nodes[0]!.name, 'config.yaml'), 'utf8')).v1alpha1!;
    const ca = loadCA(b64(cfg.machine!.ca!.crt!), b64(cfg.machine!.ca!.key!));
    token = cfg.machine!.token!;
    const kp = await issueKeyPair(ca, { subject: { commonName: 'reader', organization: ['os:reader'] }, keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'] });
    keep('reader', kp.certPEM, kp.keyPEM);
    creds.set('anonymous', {});
    creds.set('anonymous.pkcs8', {});
  });

  after(async () => {
    await destroyProcessCluster('foreign', join(dir, 'clusters'), env, info);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, client] of Object.entries(clients)) {
    /** Runs the steps through this client, with the admin's certificate unless told otherwise. */
    const calls = async (steps: Step[], who: Who = 'admin', endpoint = `${CP}:50000`): Promise<Result[]> => results(await client(steps, who, endpoint));
    const one = async (step: Step, who?: Who) => (await calls([step], who))[0]!;

    describe(name, () => {
      it('calls the local machined, fans out with repeated and joined `nodes`, and goes one-to-one with `node`', { timeout: 60_000 }, async () => {
        const [local, fan, joined, single] = await calls([
          { name: 'local', path: '/machine.MachineService/Version' },
          { name: 'fan', path: '/machine.MachineService/Version', metadata: [['nodes', CP], ['nodes', W1], ['nodes', W2]] },
          { name: 'joined', path: '/machine.MachineService/Hostname', metadata: [['nodes', `${W1},${W2}`]] },
          { name: 'single', path: '/machine.MachineService/Hostname', metadata: [['node', W2]] },
        ]);
        for (const r of [local, fan, joined, single]) assert.equal(r!.ok, true, JSON.stringify(r));
        // without routing metadata: one answer, unlabelled, from the control plane
        const [own] = answers(local!);
        assert.equal(answers(local!).length, 1);
        assert.equal(own!.metadata, undefined);
        assert.equal(own!.platform!.name, 'process');
        assert.equal(own!.features!.rbac, true);
        // fan-out: one answer per target, each labelled with the target as given
        assert.deepEqual(hostnamesOf(fan!).sort(), [CP, W1, W2]);
        for (const m of answers(fan!)) assert.match(m.version!.tag, /^v\d/);
        assert.deepEqual(hostnamesOf(joined!).sort(), [W1, W2]);
        const byNode = new Map(answers(joined!).map((m) => [m.metadata!.hostname, m.hostname!]));
        assert.equal(new Set(byNode.values()).size, 2, [...byNode.values()].join());
        // one-to-one: the worker's own answer, unlabelled
        assert.equal(answers(single!).length, 1);
        assert.equal(answers(single!)[0]!.metadata, undefined);
        assert.equal(answers(single!)[0]!.hostname, byNode.get(W2));
      });

      it('makes 200 fanned-out calls at once on its one connection', { timeout: 90_000 }, async () => {
        const r = await one({ name: 'parallel', path: '/machine.MachineService/Hostname', parallel: 200, metadata: [['nodes', CP], ['nodes', W1], ['nodes', W2]], timeout: 60 });
        assert.equal(r.ok, true, JSON.stringify(r).slice(0, 2000));
        assert.equal(r.count, 200);
        assert.deepEqual(hostnamesOf(r).sort(), [CP, W1, W2]);
      });

      it('follows the logs of two nodes in one merged stream, labelled, and cancels it', { timeout: 60_000 }, async () => {
        const [logs, afterwards] = await calls([
          {
            name: 'logs',
            path: '/machine.MachineService/Logs',
            stream: true,
            request: { namespace: 'system', id: 'machined', follow: true, tail_lines: 3 },
            metadata: [['nodes', W1], ['nodes', W2]],
            timeout: 30,
            until_hostnames: [W1, W2],
          },
          { name: 'afterwards', path: '/machine.MachineService/Version', metadata: [['nodes', W1], ['nodes', W2]] },
        ]);
        assert.equal(logs!.ok, true, JSON.stringify(logs).slice(0, 2000));
        assert.equal(logs!.cancelled, true);
        assert.deepEqual([...new Set(logs!.messages.map((m) => m.metadata?.hostname))].sort(), [W1, W2]);
        for (const m of logs!.messages) assert.ok(Buffer.from(m.bytes!, 'base64').length > 0);
        assert.deepEqual(hostnamesOf(afterwards!).sort(), [W1, W2]);
      });

      it('gets and watches a resource through the COSI State API on a worker', { timeout: 30_000 }, async () => {
        const hostname = { namespace: 'network', type: 'HostnameStatuses.net.talos.dev' };
        const started = Date.now();
        const [get, watch] = await calls([
          { name: 'get', path: '/cosi.resource.State/Get', request: { ...hostname, id: 'hostname' }, metadata: [['node', W1]] },
          // as talosctl get -w: the existing resources, then the bootstrapped marker
          { name: 'watch', path: '/cosi.resource.State/Watch', stream: true, max_messages: 3, request: { ...hostname, api_version: 1, options: { bootstrap_contents: true } }, metadata: [['node', W1]] },
        ]);
        assert.equal(get!.ok, true, JSON.stringify(get));
        const res = get!.messages[0]!.resource!;
        assert.deepEqual([res.metadata.namespace, res.metadata.type, res.metadata.id], ['network', 'HostnameStatuses.net.talos.dev', 'hostname']);
        assert.match(res.spec.yaml_spec, /^hostname: \S+/m);
        assert.equal(watch!.ok, true, JSON.stringify(watch));
        // an empty answer says the watch is in place
        assert.deepEqual(watch!.messages[0], {});
        const [created] = watch!.messages[1]!.event!;
        assert.equal(created!.event_type ?? 'CREATED', 'CREATED');
        assert.deepEqual(created!.resource, res);
        const [marker] = watch!.messages[2]!.event!;
        assert.equal(marker!.event_type, 'BOOTSTRAPPED');
        assert.ok(marker!.bookmark);
        assert.deepEqual([marker!.resource!.metadata.type, marker!.resource!.metadata.id ?? '', marker!.resource!.metadata.version], [hostname.type, '', 'undefined']);
        assert.ok(Date.parse(marker!.resource!.metadata.created!) >= started - 1000, marker!.resource!.metadata.created);
      });

      it('lets a reader read and refuses it Reboot; refuses a caller without a certificate', { timeout: 60_000 }, async () => {
        const [version, reboot] = await calls(
          [
            { name: 'version', path: '/machine.MachineService/Version', metadata: [['nodes', W1]] },
            { name: 'reboot', path: '/machine.MachineService/Reboot', metadata: [['node', W1]] },
          ],
          'reader',
        );
        assert.equal(version!.ok, true, JSON.stringify(version));
        assert.deepEqual(hostnamesOf(version!), [W1]);
        assert.deepEqual([reboot!.ok, reboot!.code, reboot!.details], [false, 'PERMISSION_DENIED', 'not authorized']);
        const anonymous = await one({ name: 'anonymous', path: '/machine.MachineService/Version', timeout: 10 }, 'anonymous');
        assert.deepEqual([anonymous.ok, anonymous.code], [false, 'UNAVAILABLE']);
      });

      it('has trustd sign a server CSR for the token holder, and refuse client auth and a wrong token', { timeout: 60_000 }, async () => {
        const csr = (cn: string, ext: string) => {
          const key = join(dir, `${cn}-${name}.key`);
          execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', key]);
          execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-addext', ext, '-out', `${key}.csr`]);
          return `${key}.csr`;
        };
        const sign = (step: string, file: string, secret: string): Step => ({ name: step, path: '/securityapi.SecurityService/Certificate', fill: { field: 'csr', file }, metadata: [['token', secret]] });
        const [ok, evil, stranger] = await calls(
          [
            sign('server', csr('joining', 'extendedKeyUsage=serverAuth'), token),
            sign('client', csr('evil', 'extendedKeyUsage=clientAuth'), token),
            sign('token', csr('stranger', 'extendedKeyUsage=serverAuth'), 'abcdef.0123456789abcdef'),
          ],
          'anonymous',
          `${CP}:50001`,
        );
        assert.equal(ok!.ok, true, JSON.stringify(ok));
        const crt = new X509Certificate(Buffer.from(ok!.messages[0]!.crt!, 'base64'));
        assert.equal(crt.subject, 'CN=joining');
        assert.ok(crt.verify(new X509Certificate(readFileSync(caFile)).publicKey));
        assert.equal(evil!.code, 'PERMISSION_DENIED', JSON.stringify(evil));
        assert.deepEqual([stranger!.code, stranger!.details], ['UNAUTHENTICATED', 'invalid token']);
      });

      it('reads a 24 MiB file from a worker and from two nodes at once, every byte in order', { timeout: 120_000 }, async () => {
        const file = join(dir, `big-${name}.bin`);
        const data = randomBytes(24 * MiB);
        writeFileSync(file, data);
        const digest = createHash('sha256').update(data).digest('hex');
        const read = (step: string, metadata: [string, string][]): Step => ({ name: step, path: '/machine.MachineService/Read', request: { path: file }, stream: true, count: true, metadata, timeout: 90 });
        const [one, two] = await calls([read('one', [['node', W1]]), read('two', [['nodes', CP], ['nodes', W2]])]);
        assert.equal(one!.ok, true, JSON.stringify(one));
        assert.deepEqual([one!.bytes, one!.sha256], [data.length, { '': digest }]);
        assert.equal(two!.ok, true, JSON.stringify(two));
        assert.deepEqual([two!.bytes, two!.sha256], [2 * data.length, { [CP]: digest, [W2]: digest }]);
      });

      it('takes a 30 MiB message on to a worker and refuses 33 MiB with ResourceExhausted', { timeout: 120_000 }, async () => {
        const apply = (name: string, bytes: number): Step => ({ name, path: '/machine.MachineService/ApplyConfiguration', fill: { field: 'data', bytes }, metadata: [['node', W1]], timeout: 60 });
        const [fits, over] = await calls([apply('30MiB', 30 * MiB), apply('33MiB', 33 * MiB)]);
        // 30 MiB of '#' reaches machined, which refuses it as a config, not as a size
        assert.equal(fits!.ok, false);
        assert.equal(fits!.code, 'INVALID_ARGUMENT', JSON.stringify(fits));
        assert.equal(over!.code, 'RESOURCE_EXHAUSTED', JSON.stringify(over));
      });
    });
  }
});

/**
 * talosctl's `apply-config --insecure` from Go: a process node started without a config serves the maintenance API,
 * whose certificate the client does not verify and to which it presents none; a reader call is answered, Reboot is
 * refused, ApplyConfiguration takes the config; then apid asks for a client certificate, and the talosconfig of the
 * generated bundle gets in.
 */
describe('grpc-go against a node in maintenance', () => {
  const ADDRESS = '127.77.31.2';
  let top: string;
  /** the node's state directory */
  let state: string;
  let node: ChildProcess | undefined;
  let apiPort: number;
  let tools: Awaited<ReturnType<typeof prepareClients>>;
  const go = async (steps: Step[], tls: Record<string, unknown>) => results(await run(tools.goClient, [], JSON.stringify({ endpoint: `${ADDRESS}:${apiPort}`, descriptors: tools.descriptors, tls, steps })));
  const serving = (maintenance: boolean) =>
    waitForFile(state, join(state, 'logs', 'apid.log'), (t) => t.split('\n').some((l) => l.includes('"apid serving"') && l.includes(`"maintenance":${maintenance}`)), 60_000);

  before(async () => {
    top = mkdtempSync(join(tmpdir(), 'bronze-foreign-maint-'));
    tools = await clientsBuilt();
    apiPort = await freePort(ADDRESS);
    const trustdPort = await freePort(ADDRESS);
    state = join(top, 'node');
    mkdirSync(state);
    node = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'machined', '--state', state, '--address', ADDRESS, '--api-port', String(apiPort), '--trustd-port', String(trustdPort)],
      { cwd: root, detached: true, stdio: 'ignore' },
    );
    await serving(true);
  });

  after(() => {
    try {
      process.kill(-node!.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    rmSync(top, { recursive: true, force: true });
  });

  it('reads, is refused Reboot, applies the config without certificates; then needs the talosconfig', { timeout: 120_000 }, async () => {
    const bundle = await generateBundle({ clusterName: 'maint', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    const config = join(top, 'controlplane.yaml');
    writeFileSync(config, bundle.controlplane.toString());
    const [version, reboot, apply] = await go(
      [
        { name: 'version', path: '/machine.MachineService/Version' },
        { name: 'reboot', path: '/machine.MachineService/Reboot' },
        { name: 'apply', path: '/machine.MachineService/ApplyConfiguration', request: { mode: 'AUTO' }, fill: { field: 'data', file: config } },
      ],
      { insecure: true },
    );
    assert.equal(version!.ok, true, JSON.stringify(version));
    assert.match(version!.messages[0]!.messages![0]!.version!.tag, /^v\d/);
    assert.equal(version!.messages[0]!.messages![0]!.features, undefined);
    assert.deepEqual([reboot!.code, reboot!.details], ['PERMISSION_DENIED', 'not authorized']);
    assert.equal(apply!.ok, true, JSON.stringify(apply));
    assert.equal(apply!.messages[0]!.messages!.length, 1);
    assert.equal(loadConfig(readFileSync(join(state, 'config.yaml'), 'utf8')).documents.length, loadConfig(bundle.controlplane.toString()).documents.length);

    await serving(false);
    const ctx = bundle.talosconfig.contexts.maint!;
    const pem = (name: string, b64: string) => {
      writeFileSync(join(top, name), Buffer.from(b64, 'base64'));
      return join(top, name);
    };
    const talosconfig = { ca: pem('ca.pem', ctx.ca!), crt: pem('admin.crt', ctx.crt!), key: pem('admin.key', ctx.key!) };
    const [secure] = await go([{ name: 'version', path: '/machine.MachineService/Version' }], talosconfig);
    assert.equal(secure!.ok, true, JSON.stringify(secure));
    assert.equal(secure!.messages[0]!.messages![0]!.features!.rbac, true);
    const [refused] = await go([{ name: 'version', path: '/machine.MachineService/Version' }], { insecure: true });
    assert.equal(refused!.code, 'UNAVAILABLE', JSON.stringify(refused));
  });
});
