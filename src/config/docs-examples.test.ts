/**
 * The configuration examples of the Talos v1.6 documentation (the config reference and the guides), each loaded as a
 * test case: applied to a generated config, strictly decoded, and validated for metal mode. The docs file is read
 * from the shared reference directory next to the repository.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { MachineConfig } from './document.js';
import { ConfigError } from './errors.js';
import { generateBundle } from './generate/config.js';
import { parseContract } from './generate/contract.js';
import { loadConfig } from './loader.js';
import { applyPatches } from './patch/apply.js';
import { loadPatch } from './patch/load.js';
import { validateConfig } from './validate.js';

const docsPath = new URL('../../../shared/reference/seeds/talos-v1.6-docs.txt', import.meta.url).pathname;

interface Example {
  line: number;
  text: string;
}

const yamlLine = /^(\s+\S|#|---|- |[a-z][A-Za-z0-9_.-]*:(\s|$)|\$patch)/;

/** YAML blocks of the docs that are machine config: v1alpha1 fragments and documents with apiVersion v1alpha1. */
export function extractExamples(text: string): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    const v1 = /^(machine|cluster):\s*$/.test(first);
    const doc = /^apiVersion: v1alpha1(\s|$)/.test(first) && /^kind: [A-Z]/.test(lines.slice(i + 1, i + 4).find((l) => l.trim() !== '') ?? '');
    if (!v1 && !doc) continue;
    const body: string[] = [];
    let j = i;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim() === '') continue;
      if (j > i && (v1 ? /^(machine|cluster):\s*$/.test(l) : false)) break;
      if (!yamlLine.test(l)) break;
      body.push(l);
    }
    // a v1alpha1 fragment that repeats its top key is the next example
    out.push({ line: i + 1, text: `${body.join('\n')}\n` });
    i = j - 1;
  }
  return out;
}

/**
 * Examples that Talos v1.13 rejects too, and why: list/mapping forms the v1.6 reference shows that the Go types never
 * accepted (generated from the wrong example value), and placeholders.
 */
const expectedDecodeErrors: Record<string, RegExp> = {
  'deviceSelector as a list': /\.deviceSelector \(line \d+\): expected a mapping, got a list/,
  'bond deviceSelectors as a mapping': /\.bond\.deviceSelectors \(line \d+\): expected a list, got a mapping/,
  'a shell variable where a subnet goes': /\.ingress\[0\]\.subnet: is not a valid cidr \(got "\$CLUSTER_SUBNET"\)/,
  'the disk encryption guide leaves out systemDiskEncryption:': /unknown keys found during decoding: \.machine\.(state|ephemeral) /,
  'etcd settings belong under cluster, not machine': /unknown keys found during decoding: \.machine\.etcd /,
  'the device selector guide writes address for addresses': /unknown keys found during decoding: \.machine\.network\.interfaces\[0\]\.address /,
  'mis-indented YAML (static pods guide, VIP guide)': /decode error: (Nested mappings are not allowed in compact mappings|All mapping items must start at the same column)/,
};
const expectedInvalid: [RegExp, RegExp][] = [
  // placeholders ("ABCDEF...") instead of WireGuard keys
  [/^\s+(- )?privateKey: ABCDEF\.\.\./m, /private key is invalid/],
  // the generic shape of a document, without the rule itself
  [/name: rule1 # only for named documents/, /portSelector\.ports is required/],
  // examples of the Endpoint type shown under logging destinations, where only tcp and udp are valid
  [/destinations:\n\s+- endpoint: https:\/\//, /unexpected logging endpoint scheme "https"/],
  // Talos v1.13 requires the SideroLink API URL to have no path; the v1.6 example has /join
  [/apiUrl: https:\/\/siderolink\.api\/join/, /apiUrl path must be empty/],
];

/** Fills what a fragment of a list item leaves out (the item's identity), so the example can be validated. */
function complete(text: string): string {
  // guides abbreviate with `...` lines: the rest of the config
  let t = text.replace(/^\s*\.\.\.\s*\n/gm, '');
  if (/^ {12}- (?!interface:|deviceSelector:)/m.test(t) && /^ {8}interfaces:/m.test(t) && !/interface: /.test(t)) t = t.replace(/^( {12})- /m, '$1- interface: eth0\n$1  ');
  if (/^ *(- )?bond:\n/m.test(t) && !/^ +mode: /m.test(t)) t = t.replace(/^( *(- )?)bond:\n( +)/m, '$1bond:\n$3mode: active-backup\n$3');
  if (/^ {8}destinations:/m.test(t) && !/format: /.test(t)) t = t.replace(/^( {12})- endpoint: (.*)$/m, '$1- endpoint: $2\n$1  format: json_lines');
  return t;
}

describe('configuration examples of the Talos v1.6 docs', { skip: !existsSync(docsPath) && `${docsPath} not present` }, () => {
  let base: MachineConfig;
  // the printable docs repeat pages: each distinct example once
  const all = existsSync(docsPath) ? extractExamples(readFileSync(docsPath, 'utf8')) : [];
  const examples = all.filter((e, i) => all.findIndex((o) => o.text === e.text) === i);

  before(async () => {
    // a v1.6-contract config: one v1alpha1 document, as the v1.6 docs assume
    base = (await generateBundle({ clusterName: 'docs', endpoint: 'https://10.5.0.2:6443', contract: parseContract('v1.6'), installDisk: '/dev/sda' })).controlplane;
  });

  it('finds the examples', () => {
    assert.ok(examples.length >= 100, `${examples.length} examples`);
  });

  for (const ex of examples) {
    it(`line ${ex.line}: ${ex.text.split('\n').slice(0, 4).join(' ').replace(/\s+/g, ' ').slice(0, 90)}`, () => {
      let patch;
      try {
        patch = loadPatch(complete(ex.text), `docs line ${ex.line}`);
      } catch (e) {
        const expected = Object.values(expectedDecodeErrors).find((re) => re.test((e as Error).message));
        assert.ok(expected, `unexpected decode error: ${(e as Error).message}`);
        assert.ok(e instanceof ConfigError && e.issues.length > 0 && e.issues.every((i) => i.path !== ''));
        return;
      }
      assert.equal(patch.type, 'strategic');
      const cfg = loadConfig(applyPatches(base, [patch]).encode());
      const { errors } = validateConfig(cfg, 'metal');
      const known = expectedInvalid.find(([ex1]) => ex1.test(ex.text));
      if (known) {
        assert.ok(errors.some((e) => known[1].test(e.message)), `expected ${known[1]} in ${JSON.stringify(errors)}`);
        return;
      }
      assert.deepEqual(errors, []);
    });
  }
});
