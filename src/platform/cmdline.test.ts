import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelCmdline, parseIPSetting } from './cmdline.js';

describe('KernelCmdline', () => {
  const c = new KernelCmdline(
    'BOOT_IMAGE=/vmlinuz console=tty0 console=ttyS0,115200 talos.platform=metal talos.config=http://10.0.2.100:8080/config.yaml?uuid=${uuid} ' +
      'talos.network.interface.ignore=eth1 talos.network.interface.ignore=eth2 panic=0 talos.environment=http_proxy=http://p:3128 init_on_alloc=1 quiet x="a b"\n',
  );

  it('reads single and repeated keys', () => {
    assert.equal(c.platform, 'metal');
    assert.equal(c.get('console'), 'ttyS0,115200');
    assert.deepEqual(c.all('console'), ['tty0', 'ttyS0,115200']);
    assert.deepEqual(c.ignoredInterfaces, ['eth1', 'eth2']);
    assert.equal(c.panicSeconds, 0);
    assert.deepEqual(c.environment, { http_proxy: 'http://p:3128' });
    assert.equal(c.has('quiet'), true);
    assert.equal(c.get('quiet'), '');
    assert.equal(c.get('x'), 'a b');
    assert.equal(c.configURL, 'http://10.0.2.100:8080/config.yaml?uuid=${uuid}');
    assert.equal(c.shutdownAction, 'poweroff');
  });

  it('parses dracut ip= settings', () => {
    assert.deepEqual(parseIPSetting('10.0.0.5::10.0.0.1:255.255.255.0:node1:eth0:off:1.1.1.1:8.8.8.8:10.0.0.1'), {
      client: '10.0.0.5',
      server: undefined,
      gateway: '10.0.0.1',
      netmask: '255.255.255.0',
      hostname: 'node1',
      device: 'eth0',
      autoconf: 'off',
      dns: ['1.1.1.1', '8.8.8.8'],
      ntp: ['10.0.0.1'],
    });
    assert.deepEqual(parseIPSetting('[2001:db8::5]::[2001:db8::1]:64::eth0:none'), {
      client: '2001:db8::5',
      server: undefined,
      gateway: '2001:db8::1',
      netmask: '64',
      hostname: undefined,
      device: 'eth0',
      autoconf: 'none',
      dns: [],
      ntp: [],
    });
    assert.deepEqual(parseIPSetting('eth0:dhcp'), { device: 'eth0', autoconf: 'dhcp', dns: [], ntp: [] });
    assert.deepEqual(parseIPSetting('dhcp'), { autoconf: 'dhcp', dns: [], ntp: [] });
    assert.equal(new KernelCmdline('ip=eth0:dhcp ip=eth1:dhcp').ip.length, 2);
  });
});
