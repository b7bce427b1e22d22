import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { criPluginConfig, registryHostsFiles } from './config.js';
import { chainIDs, sha256 } from './images.js';
import { parseImageRef, registryEndpoints } from './registry.js';
import { readTar } from './tar.js';

describe('image references, registries and layers', () => {
  for (const [ref, name, host, repository] of [
    ['busybox', 'docker.io/library/busybox:latest', 'docker.io', 'library/busybox'],
    ['siderolabs/kubelet:v1.36.3', 'docker.io/siderolabs/kubelet:v1.36.3', 'docker.io', 'siderolabs/kubelet'],
    ['ghcr.io/siderolabs/kubelet:v1.36.3', 'ghcr.io/siderolabs/kubelet:v1.36.3', 'ghcr.io', 'siderolabs/kubelet'],
    ['localhost:5000/a/b', 'localhost:5000/a/b:latest', 'localhost:5000', 'a/b'],
    [`r.io/x@sha256:${'a'.repeat(64)}`, `r.io/x@sha256:${'a'.repeat(64)}`, 'r.io', 'x'],
  ] as const) {
    it(`parses ${ref}`, () => {
      const r = parseImageRef(ref);
      assert.deepEqual([r.name, r.host, r.repository], [name, host, repository]);
    });
  }

  it('refuses bad references, naming them', () => {
    assert.throws(() => parseImageRef('Busy Box'), /invalid image reference "Busy Box"/);
    assert.throws(() => parseImageRef('docker.io/Upper/case'), /must be lowercase/);
  });

  it('tries mirrors first, then the registry unless the mirror skips the fallback', () => {
    const cfg = { mirrors: { 'docker.io': { endpoints: ['http://m:5000/'] }, 'ghcr.io': { endpoints: ['https://g'], skipFallback: true } } };
    assert.deepEqual(registryEndpoints('docker.io', cfg).map((e) => e.url), ['http://m:5000', 'https://registry-1.docker.io']);
    assert.deepEqual(registryEndpoints('ghcr.io', cfg).map((e) => e.url), ['https://g']);
    assert.deepEqual(registryEndpoints('quay.io', cfg).map((e) => e.url), ['https://quay.io']);
    const files = registryHostsFiles(cfg);
    assert.equal(files['docker.io/hosts.toml'], 'server = "https://registry-1.docker.io"\n\n[host."http://m:5000/"]\n  capabilities = ["pull", "resolve"]\n');
    assert.ok(!files['ghcr.io/hosts.toml'].includes('server ='));
  });

  it('the CRI plugin keeps containers to its own oom_score_adj only when asked (a node without CAP_SYS_RESOURCE)', () => {
    const paths = { root: '/var/lib/containerd', state: '/run/containerd', address: '/run/containerd/containerd.sock', mainFile: '/etc/cri/containerd.toml', confd: '/etc/cri/conf.d', cniConf: '/etc/cni/net.d', cniBin: '/opt/cni/bin' };
    const plain = criPluginConfig(paths);
    assert.doesNotMatch(plain, /restrict_oom_score_adj/);
    const restricted = criPluginConfig(paths, { restrictOOMScoreAdj: true });
    assert.match(restricted, /^\[plugins\."io\.containerd\.grpc\.v1\.cri"\]\n(?: {2}.*\n)*? {2}restrict_oom_score_adj = true\n/m);
  });

  it('chains layer ids as containerd names snapshots', () => {
    const a = sha256('a');
    const b = sha256('b');
    assert.deepEqual(chainIDs([a, b]), [a, sha256(`${a} ${b}`)]);
  });

  it('reads the regular files of a tar archive', () => {
    const header = (name: string, size: number, type = '0') => {
      const h = Buffer.alloc(512);
      h.write(name, 0);
      h.write('0000644\0', 100);
      h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
      h.write(type, 156);
      h.write('ustar\x0000', 257);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const x of h) sum += x;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
      return h;
    };
    const body = Buffer.from('hello');
    const tar = Buffer.concat([header('./dir/', 0, '5'), header('./dir/a.txt', body.length), body, Buffer.alloc(512 - body.length), Buffer.alloc(1024)]);
    const files = readTar(tar);
    assert.deepEqual([...files.keys()], ['dir/a.txt']);
    assert.equal(files.get('dir/a.txt')!.toString(), 'hello');
    tar[148] = 0x39;
    assert.throws(() => readTar(tar), /bad header checksum at offset 0/);
  });
});
