/**
 * `npm run fuzz`: fuzzes the machine config loader with at least a million cases (random documents, random text and
 * mutations of generated configs) and prints how many ran and how long it took. FUZZ_RUNS and FUZZ_SEED override the
 * count and the seed. Exits non-zero with the counterexample when the property fails.
 */
import { checkInput, configInputs, fc } from '../src/config/fuzz-support.js';
import { generateBundle } from '../src/config/generate/config.js';

const total = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const chunk = 50_000;

const b = await generateBundle({ clusterName: 'fuzz', endpoint: 'https://10.5.0.2:6443', kubeSpan: true, registryMirrors: { 'docker.io': ['https://m.example'] } });
const seeds = [b.controlplane.encode(), b.worker.encode(), b.controlplane.encode({ docs: true, examples: true }), 'apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 10.0.0.2/24\n'];
const property = fc.property(configInputs(seeds), (text) => checkInput(text));

const started = performance.now();
let done = 0;
for (let i = 0; done < total; i++) {
  const runs = Math.min(chunk, total - done);
  const out = fc.check(property, { numRuns: runs, seed: seed + i });
  done += out.numRuns;
  if (out.failed) {
    console.error(`FAILED after ${done} cases (seed ${seed + i}, path ${out.counterexamplePath}):`);
    console.error(JSON.stringify(out.counterexample));
    console.error(String(out.errorInstance));
    process.exit(1);
  }
  process.stderr.write(`\r${done} cases`);
}
const seconds = (performance.now() - started) / 1000;
process.stderr.write('\n');
console.log(`config loader fuzz: ${done} cases in ${seconds.toFixed(1)} s (${Math.round(done / seconds)} cases/s), seed ${seed}, no failures`);
