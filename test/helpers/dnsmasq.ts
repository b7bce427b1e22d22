import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * dnsmasq serving DHCP on `srv0` in namespace `ns` (10.77.0.50-60, router, DNS, NTP, MTU, search domains, a classless
 * route; with `hostname`, that name for every client).
 */
export function startDnsmasq(ns: string, dir: string, hostname?: string): ChildProcess {
  return spawn(
    'ip',
    [
      'netns', 'exec', ns, 'dnsmasq', '--no-daemon', '--port=0', '--interface=srv0', '--bind-interfaces', '--dhcp-authoritative',
      '--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m', `--dhcp-leasefile=${join(dir, 'leases')}`, '--pid-file=',
      '--dhcp-option=option:router,10.77.0.1', '--dhcp-option=option:dns-server,10.77.0.1,10.77.0.2', '--dhcp-option=option:ntp-server,10.77.0.1',
      '--dhcp-option=option:mtu,1400', '--dhcp-option=option:domain-name,example.test', '--dhcp-option=option:domain-search,example.test,corp.test',
      '--dhcp-option=121,10.99.0.0/16,10.77.0.1', `--dhcp-host=*:*:*:*:*:*,set:any${hostname ? `,${hostname}` : ''}`,
    ],
    { stdio: 'ignore' },
  );
}
