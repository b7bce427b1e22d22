import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { native } from './native.js';

describe('the native addon', () => {
  it('refuses bad arguments with EINVAL, naming the call', () => {
    const n = native();
    assert.throws(() => n.stepClock(Number.NaN), { code: 'EINVAL', message: /stepClock\(offsetMs\)/ });
    assert.throws(() => n.slewClock(5e6), { code: 'EINVAL', message: /slewClock\(offsetMs\)/ });
    assert.throws(() => n.setParentDeathSignal(99), { code: 'EINVAL', message: /setParentDeathSignal\(signal\)/ });
    assert.throws(() => n.bindToDevice(0, ''), { code: 'EINVAL', message: /ifname/ });
  });

  it('reports system call failures with the errno name', () => {
    // a descriptor that is not open
    assert.throws(() => native().bindToDevice(1_000_000, 'lo'), { code: 'EBADF', syscall: 'setsockopt(SO_BINDTODEVICE)' });
  });

  it('sets and clears the parent death signal of this process', () => {
    native().setParentDeathSignal(0);
  });

  it('binds a socket to a link', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('SO_BINDTODEVICE needs root');
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    try {
      native().bindToDevice((s as unknown as { _handle: { fd: number } })._handle.fd, 'lo');
    } finally {
      s.close();
    }
  });
});
