import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { checkInput, configInputs, fc, mutate } from './fuzz-support.js';
import { generateBundle } from './generate/config.js';

describe('config loader fuzzing (short budget; npm run fuzz runs a million cases)', () => {
  let seeds: string[] = [];

  before(async () => {
    const b = await generateBundle({ clusterName: 'fuzz', endpoint: 'https://10.5.0.2:6443', kubeSpan: true, registryMirrors: { 'docker.io': ['https://m.example'] } });
    seeds = [b.controlplane.encode(), b.worker.encode(), b.worker.encode({ docs: true, examples: true }), 'apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 10.0.0.2/24\n'];
  });

  it('seeds load and pass the property', () => {
    for (const s of seeds) checkInput(s);
  });

  it('mutations are applied line by line', () => {
    assert.equal(mutate('a: 1\nb: 2\n', [{ at: 1, op: 'replace', text: 'x' }]), 'a: 1\nb: x\n');
    assert.equal(mutate('a: 1\nb: 2', [{ at: 0, op: 'swap', text: '' }]), 'b: 2\na: 1');
  });

  it('never crashes, and every rejection names a path', { timeout: 60_000 }, () => {
    const out = fc.check(fc.property(configInputs(seeds), (text) => checkInput(text)), { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? 4242), interruptAfterTimeLimit: 20_000 });
    assert.equal(out.failed, false, out.failed ? `counterexample: ${JSON.stringify(out.counterexample)}\n${String(out.errorInstance)}` : '');
    assert.ok(out.numRuns >= 500, `${out.numRuns} runs`);
  });
});
