import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigDocument, MachineConfig, schemaOfKind, V1ALPHA1 } from './document.js';
import { loadConfig } from './loader.js';
import { kinds } from './schema/kinds.js';
import { toJSONSchema, validatorFor } from './schema/json-schema.js';
import { canonicalize } from './encode.js';
import { sampleValue, upstreamAvailable, upstreamFile, upstreamFiles } from './testing.js';

describe('document kinds', () => {
  it('knows the 44 kinds of Talos v1.13 besides v1alpha1', () => {
    assert.equal(kinds.length, 44);
    assert.equal(new Set(kinds.map((k) => k.kind)).size, 44);
  });

  for (const kind of [V1ALPHA1, ...kinds.map((k) => k.kind)]) {
    it(`${kind}: every field round-trips through encode and load, and passes its JSON schema`, () => {
      const schema = schemaOfKind(kind)!;
      const value = sampleValue(schema) as Record<string, unknown>;
      const doc = kind === V1ALPHA1 ? ConfigDocument.of(kind, { ...value, version: 'v1alpha1' }) : ConfigDocument.of(kind, { ...value, apiVersion: 'v1alpha1', kind });
      const text = new MachineConfig([doc]).encode();
      const back = loadConfig(text);
      assert.equal(back.documents.length, 1);
      assert.equal(back.documents[0]!.kind, kind);
      assert.deepEqual(back.documents[0]!.value, canonicalize(doc.value, schema));
      assert.equal(back.encode(), text);
      const validate = validatorFor(schema);
      assert.ok(validate(back.documents[0]!.value), JSON.stringify(validate.errors));
      // the same text with documentation comments and examples loads to the same value
      const commented = new MachineConfig([doc]).encode({ docs: true, examples: true });
      assert.deepEqual(loadConfig(commented).documents[0]!.value, back.documents[0]!.value);
    });
  }

  it('has a JSON schema per kind that rejects unknown keys', () => {
    for (const k of kinds) {
      const js = toJSONSchema(schemaOfKind(k.kind)!);
      assert.equal(js.type, 'object');
      assert.equal(js.additionalProperties, false);
      assert.ok(!validatorFor(schemaOfKind(k.kind)!)({ apiVersion: 'v1alpha1', kind: k.kind, bogus: 1 }));
    }
  });

  it('loads Talos test documents of every kind; encoding them is stable and loses nothing', { skip: !upstreamAvailable() && 'Talos source not on this machine' }, () => {
    const files = upstreamFiles('pkg/machinery/config/types').filter((f) => /\/testdata\/[^/]+\.yaml$/.test(f) && !f.includes('/v1alpha1/'));
    assert.ok(files.length >= 35, `${files.length} files`);
    const seen = new Set<string>();
    for (const f of files) {
      const text = upstreamFile(f)!;
      const cfg = loadConfig(text, { source: f });
      seen.add(cfg.documents[0]!.kind);
      const encoded = cfg.encode();
      const again = loadConfig(encoded);
      assert.deepEqual(again.documents.map((d) => d.value), cfg.documents.map((d) => canonicalize(d.value, d.schema)), f);
      assert.equal(again.encode(), encoded, f);
      assert.equal(cfg.toString(), text, f);
    }
    assert.ok(seen.size >= 35, `${seen.size} kinds`);
  });
});
