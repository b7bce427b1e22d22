import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYAML, parseAllDocuments } from 'yaml';
import { serializeTalosconfig } from '../../src/client/talosconfig.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { applyPatches } from '../../src/config/patch/apply.js';
import { loadPatch } from '../../src/config/patch/load.js';
import { KubeletID, type KubeletSpecSpec, KubeletSpecType } from '../../src/resources/k8s/index.js';
import { HostnameID, type HostnameStatusSpec, HostnameStatusType } from '../../src/resources/network/hostname-status.js';
import { ConfigStore } from '../../src/machined/config-store.js';
import { type RunningMachined, startMachined } from '../../src/machined/main.js';
import { bronzectl as runBronzectl } from '../helpers/bronzectl.js';
import { freePort } from '../helpers/ports.js';

const root = new URL('../..', import.meta.url).pathname;
const ADDRESS = '127.77.13.2';
// a registry name that resolves nowhere: the kubelet's pull fails at once, which is not what this test is about
const IMAGE = 'registry.bronze.test/siderolabs/kubelet:v1.36.3';
const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'edge' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } };

/** One resource of `get -o yaml` (the node's, the only one printed). */
const yamlOf = (out: string) => {
  const docs = parseAllDocuments(out).map((d) => d.toJS() as { node: string; metadata: { id: string; owner: string }; spec: Record<string, unknown> });
  assert.equal(docs.length, 1, out);
  return docs[0]!;
};

/**
 * The kubelet as Talos models it, on a process node: KubeletConfig from the machine config, NodeIP from the node's
 * address, KubeletSpec from both, shown by `get` with Talos's keys, and following apply-config.
 */
describe('kubelet resources on a process node', () => {
  let dir: string;
  let node: RunningMachined;
  let env: NodeJS.ProcessEnv;
  let config: string;
  let api: Server | undefined;
  const ac = new AbortController();
  const bronzectl = (...args: string[]) => runBronzectl(args, env);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bronze-kubelet-node-'));
    // a stand-in for the API server at the cluster endpoint, for KubePrism to find
    api = createServer((c) => {
      c.on('error', () => c.destroy());
      c.on('data', (d) => c.write(`api:${d.toString()}`));
    });
    api.listen(6443, ADDRESS);
    await once(api, 'listening');
    const port = await freePort(ADDRESS);
    const trustdPort = await freePort(ADDRESS);
    const bundle = await generateBundle({ clusterName: 'kube', endpoint: `https://${ADDRESS}:6443`, discovery: false });
    config = applyPatches(bundle.controlplane, [loadPatch(`machine:\n  kubelet:\n    image: ${IMAGE}\n    extraArgs:\n      node-labels: tier=one\n  pods:\n    - ${JSON.stringify(POD)}\n`)]).toString();
    new ConfigStore(dir).write(Buffer.from(config));
    const ctx = bundle.talosconfig.contexts.kube!;
    writeFileSync(join(dir, 'talosconfig'), serializeTalosconfig({ context: 'kube', contexts: { kube: { ...ctx, endpoints: [`${ADDRESS}:${port}`], nodes: [ADDRESS] } } }));
    env = { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig'), PATH: process.env.PATH };
    node = await startMachined({
      stateDir: dir,
      address: ADDRESS,
      apiPort: port,
      apidCommand: [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'apid'],
      trustdCommand: [process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'trustd'],
      trustdPort,
      signal: ac.signal,
    });
    await node.waitForLog('apid', 'apid serving', 30_000);
  });

  after(async () => {
    ac.abort();
    await node?.stop();
    api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const kubeletSpec = (pred: (s: KubeletSpecSpec) => boolean) =>
    node.state.watchFor({ namespace: 'k8s', type: KubeletSpecType, id: KubeletID }, (r) => r !== undefined && pred(r.spec as KubeletSpecSpec), AbortSignal.timeout(30_000));

  it('get kubeletconfig: the kubelet settings of the machine config', async () => {
    await kubeletSpec(() => true);
    const r = await bronzectl('get', 'kubeletconfig', '-o', 'yaml');
    assert.equal(r.code, 0, r.stderr);
    const res = yamlOf(r.stdout);
    assert.equal(res.metadata.owner, 'k8s.KubeletConfigController');
    assert.equal(res.spec.image, IMAGE);
    assert.deepEqual(res.spec.clusterDNS, ['10.96.0.10']);
    assert.equal(res.spec.clusterDomain, 'cluster.local');
    assert.deepEqual(res.spec.extraArgs, { 'node-labels': { values: ['tier=one'] } });
    const table = await bronzectl('get', 'kubeletconfigs');
    assert.match(table.stdout, new RegExp(`^NODE\\s+NAMESPACE\\s+TYPE\\s+ID\\s+VERSION\\n${ADDRESS.replace(/\./g, '\\.')}\\s+k8s\\s+KubeletConfig\\s+kubelet\\s+1\\n$`));
  });

  it('get nodeip and nodeipconfig: the node address, picked outside the pod and service subnets', async () => {
    const ip = yamlOf((await bronzectl('get', 'nodeip', '-o', 'yaml')).stdout);
    assert.equal(ip.metadata.owner, 'k8s.NodeIPController');
    assert.deepEqual(ip.spec, { addresses: [ADDRESS] });
    const cfg = yamlOf((await bronzectl('get', 'nodeipconfig', '-o', 'yaml')).stdout);
    assert.deepEqual(cfg.spec, { validSubnets: ['0.0.0.0/0'], excludeSubnets: ['10.244.0.0/16', '10.96.0.0/12'] });
  });

  it('get kubeletspec: image, flags with the hostname and node IP, the KubeletConfiguration', async () => {
    const hostname = ((await node.state.get({ namespace: 'network', type: HostnameStatusType, id: HostnameID })).spec as HostnameStatusSpec).hostname;
    const r = await bronzectl('get', 'kubeletspec', '-o', 'yaml');
    assert.equal(r.code, 0, r.stderr);
    const res = yamlOf(r.stdout);
    assert.equal(res.metadata.owner, 'k8s.KubeletSpecController');
    assert.equal(res.spec.image, IMAGE);
    const args = res.spec.args as string[];
    for (const a of [`--hostname-override=${hostname}`, `--node-ip=${ADDRESS}`, '--node-labels=tier=one', `--config=${join(dir, 'etc/kubernetes/kubelet.yaml')}`]) assert.ok(args.includes(a), `${a} not in ${args.join(' ')}`);
    assert.equal(res.spec.expectedNodename, hostname);
    const kc = res.spec.config as Record<string, unknown>;
    assert.deepEqual([kc.kind, kc.port, kc.clusterDNS, kc.protectKernelDefaults], ['KubeletConfiguration', 10250, ['10.96.0.10'], false]);
    assert.deepEqual(Object.keys(res.spec), ['image', 'args', 'expectedNodename', 'config']);
    // the static pods of machine.pods, served to the kubelet at its staticPodURL
    const server = yamlOf((await bronzectl('get', 'staticpodserverstatus', '-o', 'yaml')).stdout);
    assert.equal(server.metadata.id, 'static-pod-server-status');
    assert.equal(kc.staticPodURL, server.spec.url);
    const pod = yamlOf((await bronzectl('get', 'staticpods', '-o', 'yaml')).stdout);
    assert.deepEqual([pod.metadata.id, pod.spec.pod], ['edge-web', POD]);
    const res2 = await fetch(String(server.spec.url), { signal: AbortSignal.timeout(5000) });
    assert.deepEqual(parseYAML(await res2.text()), { kind: 'PodList', items: [POD], apiVersion: 'v1' });
    const nn = await bronzectl('get', 'nodename');
    assert.match(nn.stdout, new RegExp(`^NODE\\s+NAMESPACE\\s+TYPE\\s+ID\\s+VERSION\\s+NODENAME\\n.*\\s+k8s\\s+Nodename\\s+nodename\\s+\\d+\\s+${hostname}\\n$`));
  });

  it('the kubelet runs from its spec: its files are written, its service is there', async () => {
    const written = parseYAML(readFileSync(join(dir, 'etc/kubernetes/kubelet.yaml'), 'utf8')) as Record<string, unknown>;
    assert.equal(written.kind, 'KubeletConfiguration');
    // the kubelet joins through KubePrism, on the node's own address on the process platform
    assert.match(readFileSync(join(dir, 'etc/kubernetes/bootstrap-kubeconfig'), 'utf8'), new RegExp(`server: https://${ADDRESS.replace(/\./g, '\\.')}:7445\n`));
    const svc = await bronzectl('service', 'kubelet');
    assert.equal(svc.code, 0, svc.stderr);
    assert.match(svc.stdout, /^ID\s+kubelet$/m);
  });

  it('KubePrism: listens on the node, sends connections to an API server that answers, and says it is healthy', async () => {
    const endpoints = yamlOf((await bronzectl('get', 'kubeprismendpoints', '-o', 'yaml')).stdout);
    assert.equal(endpoints.metadata.id, 'k8s-cluster');
    assert.deepEqual(endpoints.spec.endpoints, [
      { host: ADDRESS, port: 6443 },
      { host: 'localhost', port: 6443 },
    ]);
    const cfg = yamlOf((await bronzectl('get', 'kubeprismconfig', '-o', 'yaml')).stdout);
    assert.deepEqual([cfg.metadata.id, cfg.spec.host, cfg.spec.port], ['k8s-loadbalancer-config', ADDRESS, 7445]);
    await node.state.watchFor({ namespace: 'k8s', type: 'KubePrismStatuses.kubernetes.talos.dev', id: 'k8s-loadbalancer' }, (r) => (r?.spec as { healthy?: boolean } | undefined)?.healthy === true, AbortSignal.timeout(30_000));
    const table = await bronzectl('get', 'kubeprismstatuses');
    assert.match(table.stdout, new RegExp(`^NODE\\s+NAMESPACE\\s+TYPE\\s+ID\\s+VERSION\\s+HOST\\s+HEALTHY\\n.*\\s+k8s\\s+KubePrismStatus\\s+k8s-loadbalancer\\s+\\d+\\s+${ADDRESS.replace(/\./g, '\\.')}:7445\\s+true\\n$`));
    // a connection through it reaches the stand-in API server
    const s = connect({ host: ADDRESS, port: 7445 });
    try {
      await once(s, 'connect');
      s.write('ping');
      const [d] = (await once(s, 'data')) as [Buffer];
      assert.equal(d.toString(), 'api:ping');
    } finally {
      s.destroy();
    }
  });

  it('apply-config with other kubelet extraArgs: the KubeletSpec follows', async () => {
    const file = join(dir, 'applied.yaml');
    writeFileSync(file, config.replace('node-labels: tier=one', 'node-labels: tier=two'));
    const a = await bronzectl('apply-config', '-f', file);
    assert.equal(a.code, 0, a.stderr);
    await kubeletSpec((s) => s.args.includes('--node-labels=tier=two'));
    const res = yamlOf((await bronzectl('get', 'kubeletspec', '-o', 'yaml')).stdout);
    assert.ok((res.spec.args as string[]).includes('--node-labels=tier=two'), String(res.spec.args));
    assert.ok(!(res.spec.args as string[]).includes('--node-labels=tier=one'));
  });
});
