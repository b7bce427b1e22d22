/**
 * Fuzzing of the config loader (used by the unit test with a short budget and by `npm run fuzz`): random YAML,
 * random text, and mutations of generated configs. The property: loading never crashes or hangs; it either gives a
 * config (which then validates without throwing and round-trips through its canonical encoding) or a ConfigError
 * whose every issue names a path.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from './errors.js';
import { loadConfig } from './loader.js';
import { loadPatch } from './patch/load.js';
import { validateConfig } from './validate.js';

const keys = ['version', 'machine', 'cluster', 'debug', 'persist', 'apiVersion', 'kind', 'name', 'type', 'network', 'interfaces', 'interface', 'addresses', 'hostname', 'auto', 'token', 'ca', 'crt', 'key', 'install', 'disk', 'features', 'kubelet', 'extraArgs', 'controlPlane', 'endpoint', '$patch', '<<', 'mtu', 'links', 'bondMode', 'vlans', 'vlanId'];
const kinds = ['HostnameConfig', 'LinkConfig', 'BondConfig', 'VLANConfig', 'ResolverConfig', 'TimeSyncConfig', 'KubeSpanConfig', 'VolumeConfig', 'UserVolumeConfig', 'NetworkRuleConfig', 'ExtensionServiceConfig', 'SideroLinkConfig', 'Bogus'];

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('v1alpha1', 'controlplane', 'worker', 'stable', '10.0.0.1/24', 'https://a:6443', 'delete', '0644', 'yes', '1.10', '~'));

const yamlValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })), tie('value'), { maxKeys: 5 }),
})).value;

/** A random document: mostly shaped like a config document (known keys, kinds). */
const documentText = fc
  .tuple(fc.constantFrom('v1', 'doc', 'raw'), fc.constantFrom(...kinds), fc.dictionary(fc.constantFrom(...keys), yamlValue, { maxKeys: 5 }))
  .map(([shape, kind, body]) => {
    if (shape === 'v1') return stringify({ version: 'v1alpha1', ...body });
    if (shape === 'doc') return stringify({ apiVersion: 'v1alpha1', kind, ...body });
    return stringify(body);
  });

export interface Mutation {
  at: number;
  op: 'delete' | 'insert' | 'replace' | 'indent' | 'truncate' | 'swap';
  text: string;
}

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Mutation['op']>('delete', 'insert', 'replace', 'indent', 'truncate', 'swap'),
  text: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('---\n', '  ', ': ', '- ', '\n', '&a ', '*a', '{', '[', '"', '#', '$patch: delete', 'machine:', 'kind: LinkConfig')),
});

/** Applies line-level mutations to a text. */
export function mutate(text: string, mutations: Mutation[]): string {
  const lines = text.split('\n');
  for (const m of mutations) {
    if (lines.length === 0) break;
    const i = m.at % lines.length;
    switch (m.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'insert':
        lines.splice(i, 0, m.text);
        break;
      case 'replace': {
        const l = lines[i]!;
        const colon = l.indexOf(': ');
        lines[i] = colon >= 0 ? `${l.slice(0, colon + 2)}${m.text}` : `${l}${m.text}`;
        break;
      }
      case 'indent':
        lines[i] = `${' '.repeat(m.text.length % 5)}${lines[i]}`;
        break;
      case 'truncate':
        lines[i] = lines[i]!.slice(0, m.at % (lines[i]!.length + 1));
        break;
      case 'swap':
        [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length]!, lines[i]!];
        break;
    }
  }
  return lines.join('\n');
}

/** Inputs: random documents, random text, and mutated seed configs. */
export function configInputs(seeds: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: documentText },
    { weight: 2, arbitrary: fc.array(documentText, { minLength: 2, maxLength: 3 }).map((d) => d.join('---\n')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
    { weight: seeds.length ? 1 : 0, arbitrary: fc.tuple(fc.constantFrom(...(seeds.length ? seeds : [''])), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([seed, ms]) => mutate(seed, ms)) },
  );
}

/** The property; throws (an assertion failure) when the loader misbehaves. */
export function checkInput(text: string): void {
  let cfg;
  try {
    cfg = loadConfig(text);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`loader crashed with ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? e}`);
    if (!e.issues.length || e.issues.some((i) => typeof i.path !== 'string' || i.path === '')) throw new Error(`rejection without a path: ${e.code} ${e.message}`);
    return;
  }
  for (const mode of ['metal', 'container'] as const) validateConfig(cfg, mode);
  const encoded = cfg.encode();
  const again = loadConfig(encoded);
  if (again.encode() !== encoded) throw new Error(`canonical encoding is not stable:\n${encoded}\n---- vs ----\n${again.encode()}`);
  // the same text as a patch loads too (or is rejected with a ConfigError)
  try {
    loadPatch(text);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`patch loader crashed: ${(e as Error)?.stack ?? e}`);
  }
}

export { fc };
