import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { generateBundle } from '../../config/generate/config.js';
import type { MachineConfig } from '../../config/document.js';
import { loadConfig } from '../../config/loader.js';
import { parsedConfigText, splitDocuments } from './machine-config-cache.js';

/** What a caller can see of a loaded config: the text, and each document's identity, value, source and line. */
function view(c: MachineConfig) {
  return { text: c.toString(), docs: c.documents.map((d) => ({ id: d.id, apiVersion: d.apiVersion, value: d.value, source: d.source, line: d.line })) };
}

/** parsedConfigText gives what loadConfig gives, or fails with its message. */
function sameAsLoadConfig(text: string): void {
  let want: ReturnType<typeof view> | Error;
  try {
    want = view(loadConfig(text));
  } catch (e) {
    want = e as Error;
  }
  if (want instanceof Error) assert.throws(() => parsedConfigText(text), { message: want.message });
  else assert.deepEqual(view(parsedConfigText(text)), want);
}

describe('the machined config cache', () => {
  let v1: string;
  const hostname = (name: string) => `apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: ${name}\n`;
  const resolvers = 'apiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 10.0.0.53\n';
  before(async () => {
    const text = (await generateBundle({ clusterName: 'demo', endpoint: 'https://10.5.0.2:6443' })).controlplane.toString();
    v1 = text.slice(0, text.indexOf('\n---\n') + 1);
    assert.match(v1, /^version: v1alpha1/);
  });

  it('cuts a text before each line starting a document, and not at all with end markers or directives', () => {
    assert.deepEqual(splitDocuments('a: 1\n---\nb: 2\n--- # c\nc: 3\n'), [
      { text: 'a: 1\n', line: 1 },
      { text: '---\nb: 2\n', line: 2 },
      { text: '--- # c\nc: 3\n', line: 4 },
    ]);
    assert.deepEqual(splitDocuments('---\na: |\n  ---\n----\n'), [{ text: '---\na: |\n  ---\n----\n', line: 1 }]);
    assert.equal(splitDocuments('a: 1\n...\n---\nb: 2\n'), undefined);
    assert.equal(splitDocuments('%YAML 1.2\n---\na: 1\n'), undefined);
  });

  it('reuses the documents an earlier config had, with the lines and sources of the new text', () => {
    const first = parsedConfigText(`${v1}---\n${hostname('one')}`);
    const text = `${v1}---\n# a comment\n${hostname('two')}---\n${resolvers}`;
    const second = parsedConfigText(text);
    assert.equal(second.v1alpha1Document!.value, first.v1alpha1Document!.value, 'the v1alpha1 document was parsed again');
    assert.deepEqual(view(second), view(loadConfig(text)));
    assert.equal(second.documents[2]!.line, v1.split('\n').length + 6);
  });

  it('fails as loadConfig does, with lines counted in the whole text', () => {
    sameAsLoadConfig(`${v1}---\n${hostname('x')}bad: [\n`);
    sameAsLoadConfig(`${v1}---\n${hostname('x')}---\n${hostname('y')}`);
    sameAsLoadConfig(`${v1}---\n${v1}`);
    sameAsLoadConfig(`${v1}---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: 1\nunknown: true\n`);
  });

  it('gives what loadConfig gives for any stream of documents, comments and markers', () => {
    const piece = fc.constantFrom('', '# note\n', '\n', '--- # doc\n', '...\n', '%YAML 1.2\n');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(piece, fc.constantFrom(hostname('a'), hostname('b'), resolvers, 'x: [1\n', '{}\n', '')), { maxLength: 4 }),
        fc.boolean(),
        (rest, leading) => {
          let text = `${leading ? '---\n' : ''}${v1}`;
          for (const [sep, doc] of rest) text += `${sep}---\n${doc}`;
          sameAsLoadConfig(text);
        },
      ),
      { numRuns: 150 },
    );
  });
});
