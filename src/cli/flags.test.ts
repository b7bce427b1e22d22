import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs, parseDuration, UsageError } from './flags.js';
import { globalFlags } from './global-flags.js';

const specs = [
  ...globalFlags,
  { name: 'force', kind: 'bool' as const, description: '' },
  { name: 'output', short: 'o', kind: 'string' as const, description: '', default: 'table' },
  { name: 'tail', kind: 'int' as const, description: '', default: -1 },
  { name: 'timeout', kind: 'duration' as const, description: '' },
  { name: 'patch', short: 'p', kind: 'list' as const, description: '', noSplit: true },
];

describe('parseArgs', () => {
  it('reads long, short, joined and repeated flags', () => {
    const p = parseArgs(['-n', '10.0.0.1,10.0.0.2', '--nodes=10.0.0.3', '-oyaml', 'get', '--force', '--tail', '5', 'x'], specs);
    assert.deepEqual(p.flags.get('nodes'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    assert.equal(p.flags.get('output'), 'yaml');
    assert.equal(p.flags.get('force'), true);
    assert.equal(p.flags.get('tail'), 5);
    assert.deepEqual(p.positional, ['get', 'x']);
    assert.ok(p.given.has('nodes') && !p.given.has('timeout'));
  });

  it('keeps defaults and does not split StringArray flags', () => {
    const p = parseArgs(['-p', '[{"op":"add","path":"/a","value":[1,2]}]'], specs);
    assert.equal(p.flags.get('output'), 'table');
    assert.deepEqual(p.flags.get('patch'), ['[{"op":"add","path":"/a","value":[1,2]}]']);
  });

  it('stops at -- and rejects unknown flags with their name', () => {
    assert.deepEqual(parseArgs(['--', '--force'], specs).positional, ['--force']);
    assert.throws(() => parseArgs(['--nope'], specs), (e: Error) => e instanceof UsageError && /--nope/.test(e.message));
    assert.throws(() => parseArgs(['--tail', 'x'], specs), /--tail/);
    assert.throws(() => parseArgs(['--output'], specs), /needs an argument: --output/);
  });
});

describe('parseDuration', () => {
  it('reads Go durations', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('0'), 0);
    assert.throws(() => parseDuration('10'), UsageError);
    assert.throws(() => parseDuration('5x'), UsageError);
  });
});

describe('command dispatch', () => {
  it('names an unknown command before complaining about its flags', async () => {
    const { run } = await import('./main.js');
    const { PassThrough } = await import('node:stream');
    const err = new PassThrough();
    let text = '';
    err.on('data', (d) => (text += d));
    const code = await run(['frobnicate', 'now', '--provisioner', 'process'], { stdout: new PassThrough(), stderr: err, stdin: new PassThrough(), env: {}, signal: new AbortController().signal });
    assert.equal(code, 1);
    assert.match(text, /^error: unknown command "frobnicate" for "bronzectl"\n/);
  });
});
