import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { loadConfig } from '../loader.js';
import { upstreamAvailable, upstreamFile } from '../testing.js';
import { applyPatches } from './apply.js';
import { loadPatch, loadPatches } from './load.js';

const patch = (cfgText: string, ...patches: string[]) => applyPatches(loadConfig(cfgText), loadPatches(patches));
const machineOf = (cfgText: string, ...patches: string[]) => parse(patch(cfgText, ...patches).encode());

// worked examples of the Talos configuration patches guide
describe('strategic merge patches: worked examples of the Talos docs', () => {
  it('sets a hostname next to existing interfaces', () => {
    const base = 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        addresses:\n          - 10.0.0.2/24\n';
    assert.deepEqual(machineOf(base, 'machine:\n  network:\n    hostname: worker1\n').machine.network, { hostname: 'worker1', interfaces: [{ interface: 'eth0', addresses: ['10.0.0.2/24'] }] });
  });

  it('merges network interfaces by name: a VIP on eth0, and a new eth1 with DHCP', () => {
    const base = 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: false\n        addresses:\n          - 192.168.10.3/24\n';
    const p = 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vip:\n          ip: 192.168.10.50\n      - interface: eth1\n        dhcp: true\n';
    assert.deepEqual(machineOf(base, p).machine.network.interfaces, [
      { interface: 'eth0', addresses: ['192.168.10.3/24'], dhcp: false, vip: { ip: '192.168.10.50' } },
      { interface: 'eth1', dhcp: true },
    ]);
  });

  it('replaces pod and service subnets and sets the CNI', () => {
    const base = 'cluster:\n  network:\n    dnsDomain: cluster.local\n    podSubnets:\n      - 10.244.0.0/16\n    serviceSubnets:\n      - 10.96.0.0/12\n';
    const p = 'cluster:\n  network:\n    podSubnets:\n      - 192.168.0.0/16\n    serviceSubnets:\n      - 192.0.0.0/12\n    cni:\n      name: none\n';
    assert.deepEqual(machineOf(base, p).cluster.network, { cni: { name: 'none' }, dnsDomain: 'cluster.local', podSubnets: ['192.168.0.0/16'], serviceSubnets: ['192.0.0.0/12'] });
  });

  it('sets kubelet node IP subnets in an empty kubelet section', () => {
    assert.deepEqual(machineOf('machine:\n  kubelet: {}\n', 'machine:\n  kubelet:\n    nodeIP:\n      validSubnets:\n        - 192.168.10.0/24\n').machine.kubelet, { nodeIP: { validSubnets: ['192.168.10.0/24'] } });
  });

  it('merges an admission plugin by name, appending a namespace exemption', () => {
    const base = `cluster:
  apiServer:
    admissionControl:
      - name: PodSecurity
        configuration:
          apiVersion: pod-security.admission.config.k8s.io/v1alpha1
          defaults: {audit: restricted, audit-version: latest, enforce: baseline, enforce-version: latest, warn: restricted, warn-version: latest}
          exemptions:
            namespaces: [kube-system]
            runtimeClasses: []
            usernames: []
          kind: PodSecurityConfiguration
`;
    const p = 'cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n        configuration:\n          exemptions:\n            namespaces:\n              - rook-ceph\n';
    const out = machineOf(base, p).cluster.apiServer.admissionControl;
    assert.equal(out.length, 1);
    assert.deepEqual(out[0].configuration.exemptions, { namespaces: ['kube-system', 'rook-ceph'], runtimeClasses: [], usernames: [] });
    assert.equal(out[0].configuration.defaults.enforce, 'baseline');
  });

  it('replaces the audit policy instead of merging it', () => {
    const base = 'cluster:\n  apiServer:\n    auditPolicy:\n      apiVersion: audit.k8s.io/v1\n      kind: Policy\n      rules:\n        - level: Metadata\n';
    const out = machineOf(base, 'cluster:\n  apiServer:\n    auditPolicy:\n      rules:\n        - level: None\n').cluster.apiServer.auditPolicy;
    assert.deepEqual(out, { rules: [{ level: 'None' }] });
  });

  it('appends plain lists, replaces extraArgs per argument, merges maps per key, keeps values the patch leaves at zero', () => {
    const base = 'machine:\n  certSANs: [a]\n  kubelet:\n    extraArgs: {a: "1", b: ["2", "3"]}\n  sysctls: {x: "1"}\n  token: keep\n';
    const m = machineOf(base, 'machine:\n  certSANs: [b]\n  kubelet:\n    extraArgs: {b: "4"}\n  sysctls: {y: "2"}\n  token: ""\n').machine;
    assert.deepEqual(m.certSANs, ['a', 'b']);
    assert.deepEqual(m.kubelet.extraArgs, { a: '1', b: '4' });
    assert.deepEqual(m.sysctls, { x: '1', y: '2' });
    assert.equal(m.token, 'keep');
  });

  it('merges VLANs by id and sets false booleans', () => {
    const base = 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n        vlans:\n          - vlanId: 10\n            dhcp: true\n';
    const ifc = machineOf(base, 'machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: false\n        vlans:\n          - vlanId: 10\n            mtu: 1400\n          - vlanId: 20\n').machine.network.interfaces;
    assert.deepEqual(ifc, [{ interface: 'eth0', dhcp: false, vlans: [{ vlanId: 10, dhcp: true, mtu: 1400, routes: [] }, { vlanId: 20, routes: [] }] }]);
  });
});

describe('multi-document patches', () => {
  const base = 'version: v1alpha1\nmachine:\n  type: worker\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: 1500\n';

  it('merges matching documents (by kind and name) and appends new ones', () => {
    const out = patch(base, 'apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nup: true\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth1\nmtu: 9000\n');
    assert.deepEqual(out.documents.map((d) => d.id), ['v1alpha1', 'HostnameConfig', 'LinkConfig/eth0', 'LinkConfig/eth1']);
    assert.deepEqual(out.find('LinkConfig', 'eth0')!.value, { apiVersion: 'v1alpha1', kind: 'LinkConfig', name: 'eth0', mtu: 1500, up: true });
  });

  it('deletes a whole document with $patch: delete', () => {
    const out = patch(base, 'apiVersion: v1alpha1\nkind: HostnameConfig\n$patch: delete\n');
    assert.deepEqual(out.documents.map((d) => d.id), ['v1alpha1', 'LinkConfig/eth0']);
  });

  it('deletes a key, a list item selected by a key, and a named document', () => {
    const cfg = 'version: v1alpha1\nmachine:\n  type: worker\n  network:\n    hostname: a\n    interfaces:\n      - interface: eth0\n        dhcp: true\n      - interface: eth1\n        dhcp: true\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nmtu: 1500\n';
    const out = patch(cfg, 'machine:\n  network:\n    hostname:\n      $patch: delete\n    interfaces:\n      - interface: eth0\n        $patch: delete\n---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\n$patch: delete\n');
    assert.deepEqual(out.v1alpha1!.machine!.network, { interfaces: [{ interface: 'eth1', dhcp: true }] });
    assert.equal(out.documents.length, 1);
  });

  it('reports a delete of something that is not there, naming the path', () => {
    assert.throws(() => patch('version: v1alpha1\nmachine: {}\n', 'machine:\n  network:\n    hostname:\n      $patch: delete\n'), {
      code: 'BRONZE_CONFIG_PATCH',
      message: "patch delete: path 'machine.network.hostname' in document '/v1alpha1': failed to delete path 'machine.network.hostname': lookup failed",
    });
  });

  it('refuses to delete the root of the v1alpha1 document and keys inside list items', () => {
    assert.throws(() => patch(base, 'version: v1alpha1\n$patch: delete\n'), /can't delete the root of the legacy document/);
    assert.equal(patch(base, 'machine:\n  $patch: delete\n').v1alpha1!.machine, undefined);
    assert.throws(() => loadPatch('machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vip:\n          $patch: delete\n'), /cannot delete an inner key/);
  });

  it('refuses JSON patches on multi-document configs', () => {
    assert.throws(() => patch(base, '[{"op": "add", "path": "/machine/type", "value": "controlplane"}]'), { message: 'JSON6902 patches are not supported for multi-document machine configuration' });
  });
});

describe('RFC 6902 JSON patches', () => {
  const base = 'version: v1alpha1\nmachine:\n  type: worker\n  network:\n    hostname: old\n';

  it('replace and add, in JSON and in YAML', () => {
    assert.equal(patch(base, '[{"op": "replace", "path": "/machine/network/hostname", "value": "worker1"}]').v1alpha1!.machine!.network!.hostname, 'worker1');
    assert.equal(patch(base, '- op: add\n  path: /machine/network/hostname\n  value: worker1\n').v1alpha1!.machine!.network!.hostname, 'worker1');
    // the patch applies to the canonical form, where fields that are always written have their zero value
    assert.deepEqual(patch(base, '[{"op": "add", "path": "/machine/certSANs/-", "value": "x"}, {"op": "remove", "path": "/machine/network"}]').v1alpha1!.machine, { type: 'worker', token: '', certSANs: ['x'] });
  });

  it('fails on missing paths and failed tests, and the result is strictly decoded', () => {
    assert.throws(() => patch(base, '[{"op": "replace", "path": "/machine/nothing/here", "value": 1}]'), { code: 'BRONZE_CONFIG_PATCH' });
    assert.throws(() => patch(base, '[{"op": "test", "path": "/machine/type", "value": "controlplane"}]'), /test failed/);
    assert.throws(() => patch(base, '[{"op": "add", "path": "/machine/bogus", "value": 1}]'), (e: unknown) => e instanceof ConfigError && e.code === 'BRONZE_CONFIG_DECODE' && e.issues[0]!.path === '.machine.bogus');
  });

  it('joins consecutive JSON patches into one, and reads @file and bare file names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-patch-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), 'machine:\n  network:\n    hostname: fromfile\n');
      writeFileSync(join(dir, 'b.json'), '[{"op": "add", "path": "/machine/certSANs", "value": ["y"]}]');
      const patches = loadPatches([`@${join(dir, 'a.yaml')}`, join(dir, 'b.json'), '[{"op": "add", "path": "/debug", "value": true}]']);
      assert.deepEqual(patches.map((p) => p.type), ['strategic', 'json6902']);
      const out = applyPatches(loadConfig(base), patches).v1alpha1!;
      assert.equal(out.machine!.network!.hostname, 'fromfile');
      assert.deepEqual(out.machine!.certSANs, ['y']);
      assert.equal(out.debug, true);
      assert.throws(() => loadPatches([`@${join(dir, 'missing.yaml')}`]), /cannot read patch file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports what is wrong with a patch that is neither', () => {
    assert.throws(() => loadPatch('machine:\n  bogus: 1\n'), (e: unknown) => e instanceof ConfigError && e.code === 'BRONZE_CONFIG_PATCH' && e.issues[0]!.path === '.machine.bogus');
    assert.throws(() => loadPatch('[{"op": "frobnicate", "path": "/a"}]'), /unexpected op/);
  });
});

describe('patch conformance with Talos test data', { skip: !upstreamAvailable() && 'Talos source not on this machine' }, () => {
  const td = (p: string) => upstreamFile(`pkg/machinery/config/configpatcher/testdata/${p}`)!;
  const cases: [string, string, string[], string][] = [
    ['apply: strategic, JSON, JSON, strategic, strategic', 'apply/config.yaml', ['apply/strategic1.yaml', 'apply/jsonpatch1.yaml', 'apply/jsonpatch2.yaml', 'apply/strategic2.yaml', 'apply/strategic3.yaml'], 'apply/expected.yaml'],
    ['multi-document', 'multidoc/config.yaml', ['multidoc/strategic1.yaml', 'multidoc/strategic2.yaml'], 'multidoc/expected.yaml'],
    ['audit policy replaced', 'auditpolicy/config.yaml', ['auditpolicy/patch1.yaml'], 'auditpolicy/expected.yaml'],
    ['inline manifest leading newline', 'apply/config.yaml', ['apply/strategic4.yaml'], 'apply/expected_manifests.yaml'],
    ['patch delete', 'patchdelete/config.yaml', ['patchdelete/strategic1.yaml'], 'patchdelete/expected.yaml'],
    ['patch delete on a control plane config', 'patchdelete/controlplane_orig.yaml', ['patchdelete/strategic2.yaml', 'patchdelete/strategic3.yaml', 'patchdelete/strategic4.yaml'], 'patchdelete/controlplane_expected.yaml'],
    ['link documents', 'patchlink/base.yaml', ['patchlink/patch.yaml'], 'patchlink/expected.yaml'],
  ];
  for (const [name, cfg, patches, expected] of cases) {
    it(name, () => {
      const out = applyPatches(loadConfig(td(cfg)), patches.map((p) => loadPatch(td(p), p)));
      assert.equal(out.encode(), td(expected));
    });
  }
});
