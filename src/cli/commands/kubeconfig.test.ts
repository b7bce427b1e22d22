import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeconfigArchive } from '../../machined/api/kubeconfig.js';
import { extractFileFromTarGz } from '../tar.js';
import { defaultKubeconfigPath, mergeKubeconfig } from './kubeconfig.js';

const cfg = (cluster: string, server: string) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: cluster, cluster: { server } }],
  users: [{ name: `admin@${cluster}`, user: { token: server } }],
  contexts: [{ name: `admin@${cluster}`, context: { cluster, user: `admin@${cluster}`, namespace: 'default' } }],
  'current-context': `admin@${cluster}`,
});

describe('kubeconfig', () => {
  it('reads the file back out of the Kubeconfig archive', async () => {
    const archive = await kubeconfigArchive('apiVersion: v1\nkind: Config\n');
    assert.equal(extractFileFromTarGz('kubeconfig', archive).toString(), 'apiVersion: v1\nkind: Config\n');
    assert.throws(() => extractFileFromTarGz('other', archive), /file "other" not found in the archive/);
  });

  it('merges: new entries added, a taken name renamed with its references, the new context current', () => {
    const mine = cfg('prod', 'https://10.0.0.1:6443');
    const a = mergeKubeconfig(mine, cfg('dev', 'https://127.0.0.1:6443'));
    assert.deepEqual(a.notes, []);
    assert.deepEqual(a.merged.contexts!.map((c) => c.name), ['admin@prod', 'admin@dev']);
    assert.equal(a.merged['current-context'], 'admin@dev');
    // the same again: nothing changes
    assert.deepEqual(mergeKubeconfig(a.merged, cfg('dev', 'https://127.0.0.1:6443')).merged, a.merged);
    // a different cluster under a taken name: renamed, and the context follows
    const b = mergeKubeconfig(a.merged, cfg('dev', 'https://127.0.0.2:6443'));
    assert.deepEqual(b.notes, ['renamed cluster "dev" -> "dev-1"', 'renamed user "admin@dev" -> "admin@dev-1"', 'renamed context "admin@dev" -> "admin@dev-1"']);
    const ctx = b.merged.contexts!.find((c) => c.name === 'admin@dev-1')!;
    assert.deepEqual(ctx.context, { cluster: 'dev-1', user: 'admin@dev-1', namespace: 'default' });
    assert.equal(b.merged['current-context'], 'admin@dev-1');
    // --force overwrites instead; --force-context-name names the context
    const c = mergeKubeconfig(a.merged, cfg('dev', 'https://127.0.0.2:6443'), { force: true, contextName: 'mine' });
    assert.deepEqual(c.merged.clusters!.map((x) => [x.name, (x.cluster as { server: string }).server]), [['prod', 'https://10.0.0.1:6443'], ['dev', 'https://127.0.0.2:6443']]);
    assert.equal(c.merged['current-context'], 'mine');
  });

  it('goes where kubectl looks', () => {
    assert.equal(defaultKubeconfigPath({ HOME: '/home/x' }), '/home/x/.kube/config');
    assert.equal(defaultKubeconfigPath({ HOME: '/home/x', KUBECONFIG: '/a/one:/b/two' }), '/a/one');
  });
});
