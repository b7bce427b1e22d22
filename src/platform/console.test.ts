import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { consoleLine, MAINTENANCE_MESSAGE, maintenanceHint, metalConsole } from './console.js';

describe('metal console', { timeout: 10_000 }, () => {
  it('shows info and above, with the fields that name where a line comes from', () => {
    assert.equal(consoleLine({ level: 20, msg: 'debug' }), undefined);
    assert.equal(consoleLine({ level: 30, msg: 'machined API serving', pid: 7 }), '[bronze] machined API serving');
    assert.equal(consoleLine({ level: 40, msg: 'config source failed', source: 'platform', err: 'boom' }), '[bronze] warn: config source failed source=platform err=boom');
    assert.equal(consoleLine({ level: 30, msg: 'waiting', services: ['apid', 'cri'] }), '[bronze] waiting services=["apid","cri"]');
    assert.equal(consoleLine({ level: 30, msg: 'up' }, 4.5), '[bronze] [    4.50] up');
  });

  it('tells how to apply a config in maintenance mode, with the node address', () => {
    const hint = maintenanceHint(['10.0.2.15', 'fec0::1']);
    assert.equal(hint[1], '[bronze] this node is reachable at: 10.0.2.15, fec0::1');
    assert.match(hint[2]!, /apply-config --insecure --nodes 10\.0\.2\.15 --file <config\.yaml>/);
  });

  it('prints the hint once an IPv4 address is up', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    let addrs: string[] = ['fec0::5'];
    const sink = metalConsole({ out, addresses: () => addrs, addressPollMs: 5, uptime: () => 1 });
    sink.write(`${JSON.stringify({ level: 40, msg: `${MAINTENANCE_MESSAGE}: waiting for one to be applied (maintenance)` })}\n`);
    assert.match(text, /\[bronze\] \[    1\.00\] warn: no machine config stored/);
    assert.doesNotMatch(text, /apply-config/);
    addrs = ['10.0.2.15', 'fec0::5'];
    // the console's address poll does not hold the event loop open: the deadline does, and bounds the wait
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`no hint within 5 s: ${text}`)), 5000);
    });
    try {
      while (!text.includes('apply-config')) await Promise.race([once(out, 'data'), timedOut]);
    } finally {
      clearTimeout(deadline);
    }
    assert.match(text, /--nodes 10\.0\.2\.15 /);
  });

  it('passes lines that are not JSON through', () => {
    const out = new PassThrough();
    metalConsole({ out }).write('plain text\n');
    assert.equal(out.read().toString(), '[bronze] plain text\r\n');
  });
});
