import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigDocument, MachineConfig } from './document.js';
import { ConfigError } from './errors.js';
import { loadConfig, loadEntries } from './loader.js';

const rejects = (text: string, code: string, message: RegExp | string, path?: string) =>
  assert.throws(
    () => loadConfig(text),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.code, code);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      if (path) assert.ok(e.issues.some((i) => i.path === path), JSON.stringify(e.issues));
      assert.ok(e.issues.every((i) => typeof i.path === 'string' && i.path.length > 0));
      return true;
    },
  );

describe('config loader', () => {
  it('recognises the v1alpha1 document by version or by its keys, and others by apiVersion and kind', () => {
    for (const text of ['version: v1alpha1\n', 'machine: {}\n', 'cluster: {}\n', 'debug: true\n', 'persist: true\n']) {
      if (text === 'version: v1alpha1\n') {
        rejects(text, 'BRONZE_CONFIG_DECODE', 'error decoding document /v1alpha1/ (line 1): missing kind');
        continue;
      }
      assert.equal(loadConfig(text).documents[0]!.kind, 'v1alpha1');
    }
    const cfg = loadConfig('machine:\n  type: worker\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: n1\n---\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: 9000\n');
    assert.deepEqual(cfg.documents.map((d) => d.id), ['v1alpha1', 'HostnameConfig', 'LinkConfig/eth0']);
    assert.equal(cfg.find('LinkConfig', 'eth0')!.value.mtu, 9000);
  });

  it('requires kind and apiVersion, and knows only registered kinds', () => {
    rejects('hostname: x\n', 'BRONZE_CONFIG_DECODE', 'error decoding document /v1alpha1/ (line 1): missing kind');
    // as in Talos, an apiVersion of v1alpha1 without a kind is read as the v1alpha1 document
    rejects('apiVersion: v1alpha1\nhostname: x\n', 'BRONZE_CONFIG_DECODE', /v1alpha1\/v1alpha1\/ \(line 1\): unknown keys found during decoding: \.apiVersion \(line 1\); \.hostname/);
    rejects('kind: HostnameConfig\nhostname: x\n', 'BRONZE_CONFIG_DECODE', 'error decoding document /HostnameConfig/ (line 1): missing apiVersion');
    rejects('apiVersion: v1alpha1\nkind: FooConfig\n', 'BRONZE_CONFIG_DECODE', 'error decoding document v1alpha1/FooConfig/ (line 1): "FooConfig" "v1alpha1": not registered');
    rejects('apiVersion: v1alpha2\nkind: HostnameConfig\n', 'BRONZE_CONFIG_DECODE', /"HostnameConfig" "v1alpha2": not registered/);
  });

  it('rejects duplicate and conflicting documents', () => {
    rejects('machine: {}\n---\nmachine: {}\n', 'BRONZE_CONFIG_DUPLICATE', 'duplicate document /v1alpha1/ is not allowed (line 3)');
    rejects('apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\n', 'BRONZE_CONFIG_DUPLICATE', 'duplicate document v1alpha1/LinkConfig/eth0 is not allowed (line 5)');
    rejects('apiVersion: v1alpha1\nkind: LinkConfig\nname: bond0\n---\napiVersion: v1alpha1\nkind: BondConfig\nname: bond0\nbondMode: active-backup\n', 'BRONZE_CONFIG_DUPLICATE', 'conflicting documents: LinkConfig/bond0 and BondConfig/bond0');
    rejects('apiVersion: v1alpha1\nkind: Layer2VIPConfig\nname: 1.2.3.4\nlink: eth0\n---\napiVersion: v1alpha1\nkind: HCloudVIPConfig\nname: 1.2.3.4\nlink: eth0\napiToken: t\n', 'BRONZE_CONFIG_DUPLICATE', /conflicting documents/);
    assert.throws(() => new MachineConfig([ConfigDocument.of('v1alpha1', {}), ConfigDocument.of('v1alpha1', {})]), { code: 'BRONZE_CONFIG_DUPLICATE', message: 'duplicate v1alpha1.Config' });
  });

  it('decodes strictly: every unknown key is an error with its path and line', () => {
    rejects('machine:\n  type: worker\n  foo: 1\n  network:\n    interfacez: []\n', 'BRONZE_CONFIG_DECODE', 'error decoding document /v1alpha1/ (line 1): unknown keys found during decoding: .machine.foo (line 3); .machine.network.interfacez (line 5)', '.machine.network.interfacez');
    rejects('apiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\nhost: x\n', 'BRONZE_CONFIG_DECODE', /unknown keys found during decoding: \.host \(line 4\)/, '.host');
    rejects('machine:\n  sysctls:\n    a.b: [1]\n', 'BRONZE_CONFIG_DECODE', /\.machine\.sysctls\["a\.b"\] \(line 3\): expected a string, got a list/, '.machine.sysctls["a.b"]');
  });

  it('reports values of the wrong type with their path', () => {
    rejects('machine:\n  install:\n    wipe: maybe\n', 'BRONZE_CONFIG_DECODE', /\.machine\.install\.wipe \(line 3\): expected a boolean/, '.machine.install.wipe');
    rejects('machine:\n  network:\n    interfaces:\n      - interface: eth0\n        mtu: big\n', 'BRONZE_CONFIG_DECODE', /\.machine\.network\.interfaces\[0\]\.mtu/, '.machine.network.interfaces[0].mtu');
    rejects('machine:\n  time:\n    bootTimeout: 5 minutes\n', 'BRONZE_CONFIG_DECODE', /invalid duration/, '.machine.time.bootTimeout');
    rejects('apiVersion: v1alpha1\nkind: VLANConfig\nname: v\nvlanID: 70000\n', 'BRONZE_CONFIG_DECODE', /\.vlanID: must be <= 65535/, '.vlanID');
    rejects('apiVersion: v1alpha1\nkind: BondConfig\nname: b\nbondMode: fastest\n', 'BRONZE_CONFIG_DECODE', /\.bondMode: must be one of/, '.bondMode');
    rejects('machine: [1, 2]\n', 'BRONZE_CONFIG_DECODE', /\.machine \(line 1\): expected a mapping, got a list/, '.machine');
  });

  it('reads scalars as Go does: strings as written, YAML 1.1 booleans, Go integer literals', () => {
    const v = loadConfig('machine:\n  certSANs: [1.10, 0x1F, true]\n  install:\n    wipe: yes\n  files:\n    - content: x\n      permissions: 0644\n      path: /a\n      op: create\n    - content: y\n      permissions: 0o600\n      path: /b\n      op: create\n').v1alpha1!;
    assert.deepEqual(v.machine!.certSANs, ['1.10', '0x1F', 'true']);
    assert.equal(v.machine!.install!.wipe, true);
    assert.deepEqual(v.machine!.files!.map((f) => f.permissions), [0o644, 0o600]);
  });

  it('resolves anchors, aliases and merge keys, within a budget', () => {
    const v = loadConfig('machine:\n  nodeLabels: &l\n    a: "1"\n  nodeAnnotations:\n    <<: *l\n    b: "2"\n').v1alpha1!;
    assert.deepEqual(v.machine!.nodeAnnotations, { a: '1', b: '2' });
    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 0; i < 8; i++) bomb += `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]\n`;
    const doc = `machine:\n  pods:\n    - ${bomb.replace(/\n/g, '\n      ')}\n`;
    assert.throws(() => loadConfig(doc), (e: unknown) => e instanceof ConfigError);
  });

  it('accepts a v1.6-era single document with everything under machine.* and cluster.*', () => {
    const cfg = loadConfig(`version: v1alpha1
debug: false
persist: true
machine:
  type: controlplane
  token: abcdef.0123456789abcdef
  network:
    hostname: cp1
    nameservers: [1.1.1.1]
    interfaces:
      - interface: eth0
        dhcp: true
        vip: {ip: 10.0.0.100}
    kubespan: {enabled: true}
  time:
    servers: [time.cloudflare.com]
  registries:
    mirrors:
      docker.io: {endpoints: ["https://mirror.example"]}
  features:
    rbac: true
    stableHostname: true
    apidCheckExtKeyUsage: true
  install:
    disk: /dev/sda
    image: ghcr.io/siderolabs/installer:v1.6.0
    bootloader: true
    wipe: false
  udev:
    rules: ['SUBSYSTEM=="drm", KERNEL=="renderD*", GROUP="44", MODE="0660"']
cluster:
  controlPlane: {endpoint: "https://10.0.0.100:6443"}
  clusterName: old
  network: {dnsDomain: cluster.local, podSubnets: [10.244.0.0/16], serviceSubnets: [10.96.0.0/12]}
  apiServer:
    disablePodSecurityPolicy: true
  allowSchedulingOnMasters: true
`);
    assert.equal(cfg.v1alpha1!.machine!.network!.kubespan!.enabled, true);
    assert.equal(cfg.v1alpha1!.cluster!.allowSchedulingOnMasters, true);
  });

  it('gives back the text as written, comments and order, when nothing changed; canonical text for changed documents', () => {
    const text = '# cluster config\nmachine:\n  # the role\n  type: worker   # aligned comment\n  token: x\n\n---\n# a hostname\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: n1\n...\n';
    const cfg = loadConfig(text);
    assert.equal(cfg.toString(), text);
    cfg.documents[1]!.setValue({ ...cfg.documents[1]!.value, hostname: 'n2' });
    assert.equal(cfg.toString(), '# cluster config\nmachine:\n  # the role\n  type: worker   # aligned comment\n  token: x\n\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: n2\n');
  });

  it('rejects YAML errors, non-mapping documents and empty input with clear codes', () => {
    rejects('machine: [\n', 'BRONZE_CONFIG_YAML', /^decode error: /);
    rejects('machine: 1\nmachine: 2\n', 'BRONZE_CONFIG_YAML', /Map keys must be unique/);
    rejects('- a\n- b\n', 'BRONZE_CONFIG_DOCUMENT', 'expected a YAML document at line 1');
    rejects('', 'BRONZE_CONFIG_EMPTY', 'config not found');
    rejects('# only a comment\n---\n', 'BRONZE_CONFIG_EMPTY', 'config not found');
  });

  it('accepts $patch: delete only when loading patches', () => {
    rejects('machine:\n  network:\n    $patch: delete\n', 'BRONZE_CONFIG_DECODE', /unknown keys found during decoding: \.machine\.network\.\$patch/);
    const entries = loadEntries('machine:\n  network:\n    $patch: delete\n  type: worker\n', { allowPatchDelete: true });
    assert.equal(entries.length, 2);
    assert.deepEqual((entries[0] as { path: string[] }).path, ['machine', 'network']);
  });
});
