import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../src/client/client.js';
import { generateBundle } from '../../src/config/generate/config.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { netnsUnavailable, nsip, VethPair, waitForRoute } from '../helpers/netns.js';
import { occurrences, waitForFile } from '../helpers/wait-file.js';

const root = new URL('../..', import.meta.url).pathname;
const skip =
  netnsUnavailable() ??
  (spawnSync('dnsmasq', ['--version']).status === 0 ? undefined : 'dnsmasq is not installed (make deps installs dnsmasq-base)') ??
  (spawnSync('unshare', ['--version']).status === 0 ? undefined : 'unshare (util-linux) is not installed');

/**
 * machined on the metal platform, in network and UTS namespaces the test creates: the machine's network is the
 * namespace's. With `ip=eth0:dhcp talos.config=<url>` on its command line it gets a DHCP lease from dnsmasq and puts
 * it on its link, downloads its config (the URL asking for its hostname), stores it in STATE, writes /etc/hosts
 * with its address and the hostname DHCP gave, and, asked to reboot, ends with the exit status PID 1 reboots on.
 */
describe('machined on the metal platform, in a network namespace', { skip }, () => {
  let pair: VethPair;
  let dir: string;
  let state: string;
  const children: ChildProcess[] = [];

  before(async () => {
    pair = new VethPair(`bmetal${process.pid % 1000}`, 'srv0', 'eth0');
    nsip(pair.a, 'addr', 'add', '10.77.0.1/24', 'dev', 'srv0');
    dir = mkdtempSync(join(tmpdir(), 'bronze-metal-'));
    state = join(dir, 'state');
    children.push(startDnsmasq(pair.a, dir, 'node-7'));
    // the config server, on the other end of the link; time sync off: this node's clock is the host's
    const bundle = await generateBundle({ clusterName: 'metal', endpoint: 'https://10.77.0.1:6443' });
    writeFileSync(join(dir, 'config.yaml'), bundle.controlplane.toString().replace(/^machine:\n/m, 'machine:\n    time:\n        disabled: true\n'));
    writeFileSync(
      join(dir, 'server.mjs'),
      `import { createServer } from 'node:http';
      import { appendFileSync, readFileSync } from 'node:fs';
      createServer((req, res) => { appendFileSync(${JSON.stringify(join(dir, 'requests'))}, req.url + '\\n'); res.end(readFileSync(${JSON.stringify(join(dir, 'config.yaml'))})); })
        .listen(8080, '10.77.0.1', () => appendFileSync(${JSON.stringify(join(dir, 'requests'))}, 'listening\\n'));`,
    );
    children.push(spawn('ip', ['netns', 'exec', pair.a, process.execPath, join(dir, 'server.mjs')], { stdio: 'ignore' }));
    await waitForFile(dir, join(dir, 'requests'), (t) => t.includes('listening'), 10_000);
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    pair?.destroy();
    if (dir && !process.env.BRONZE_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('takes its network from DHCP and its config from talos.config, and reboots through PID 1', { timeout: 120_000 }, async () => {
    const cmdline = 'ip=eth0:dhcp talos.config=http://10.77.0.1:8080/config.yaml?h=${hostname}';
    const node = spawn(
      'ip',
      ['netns', 'exec', pair.b, 'unshare', '--uts', process.execPath, '--import', 'tsx', join(root, 'src/bin/bronze.ts'), 'machined', '--platform', 'metal', '--state', state, '--cmdline', cmdline],
      { cwd: root, stdio: 'ignore' },
    );
    children.push(node);
    const exited = new Promise<number | null>((r) => node.once('exit', (code) => r(code)));

    // the config was downloaded (the URL asked for the hostname: before a config only DHCP or the command line can give
    // one) and stored in STATE
    await waitForFile(dir, join(state, 'config.yaml'), (t) => t.includes('kind: HostnameConfig'), 60_000);
    const requested = readFileSync(join(dir, 'requests'), 'utf8').split('\n').find((l) => l.startsWith('/config.yaml'))!;
    assert.equal(requested, '/config.yaml?h=node-7');

    // the lease is on the link, and /etc/hosts names the node at its address (DHCP's name outranks the config's
    // `auto: stable` default)
    const hosts = await waitForFile(dir, join(state, 'system', 'etc', 'hosts'), (t) => /^10\.77\.0\.(5\d|60) +node-7\.example\.test node-7$/m.test(t), 60_000);
    const address = /^(10\.77\.0\.\d+) /m.exec(hosts)![1]!;
    const link = (JSON.parse(nsip(pair.b, '-j', 'addr', 'show', 'dev', 'eth0')) as { mtu: number; addr_info: { local: string; prefixlen: number }[] }[])[0]!;
    assert.ok(link.addr_info.some((a) => a.local === address && a.prefixlen === 24), JSON.stringify(link.addr_info));
    assert.equal(link.mtu, 1400);
    // the configured route follows once the lease's address is on the link
    const routes = await waitForRoute(pair.b, '10.99.0.0/16', 30_000);
    assert.equal(routes[0]?.gateway, '10.77.0.1');
    await waitForFile(dir, join(state, 'logs', 'apid.log'), (t) => occurrences(t, 'apid serving') >= 1, 60_000);

    // its API on the local socket says it is metal; a reboot ends machined with PID 1's reboot status
    const local = new Client({ endpoints: [`unix://${join(state, 'machined', 'machine.sock')}`], tls: {} });
    try {
      assert.deepEqual((await local.machine.version({}, { timeout: 10_000 })).messages[0]!.platform, { name: 'metal', mode: 'metal' });
      await local.machine.reboot({ mode: 0 }, { timeout: 10_000 });
    } finally {
      local.close();
    }
    assert.equal(await exited, 10);
  });
});
