import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { type DescriptorProto, type EnumDescriptorProto, type FieldDescriptorProto, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { upstreamAvailable, upstreamFile, upstreamFiles } from '../config/testing.js';

const root = new URL('../..', import.meta.url).pathname;

/** The wire shape of a descriptor set: every message's fields, every enum's values, every method's types and streams. */
function wireShape(set: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const field = (f: FieldDescriptorProto) => `${f.name} type=${f.type} ${f.typeName} label=${f.label}`;
  const walk = (prefix: string, messages: DescriptorProto[], enums: EnumDescriptorProto[]) => {
    for (const e of enums) out.set(`enum ${prefix}.${e.name}`, e.value.map((v) => `${v.name}=${v.number}`).sort().join(' '));
    for (const m of messages) {
      const name = `${prefix}.${m.name}`;
      out.set(`message ${name}`, m.field.map((f) => f.number).sort((a, b) => a - b).join(' '));
      for (const f of m.field) out.set(`field ${name}#${f.number}`, field(f));
      walk(name, m.nestedType, m.enumType);
    }
  };
  for (const file of fromBinary(FileDescriptorSetSchema, set).file) {
    if (file.name.startsWith('google/protobuf/')) continue;
    walk(file.package, file.messageType, file.enumType);
    for (const s of file.service) {
      for (const m of s.method) out.set(`method ${file.package}.${s.name}/${m.name}`, `${m.inputType} -> ${m.outputType} client-stream=${!!m.clientStreaming} server-stream=${!!m.serverStreaming}`);
    }
  }
  return out;
}

/** A descriptor set protoc makes of `files` under `dir` (with the well-known types from /usr/include). */
function descriptorSet(dir: string, files: string[], out: string, extra: string[] = []): Uint8Array {
  execFileSync('protoc', ['-I', dir, ...extra.flatMap((d) => ['-I', d]), '-I', '/usr/include', '--include_imports', `--descriptor_set_out=${out}`, ...files]);
  return readFileSync(out);
}

/**
 * The project's .proto files describe the same wire as Talos's at the compatibility tag: every message, field number,
 * field type and label, enum value and method (with its streaming) of Talos's API is here, and nothing more. Names of
 * fields count too: they are what JSON and the resource YAML show. The COSI State protos come from COSI's own
 * specification and are not part of Talos's tree.
 */
describe('the API protos against Talos’s', { skip: !upstreamAvailable() && 'Talos source not on this machine' }, () => {
  it('describe the same wire: messages, fields, enums and methods', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'bronze-protos-'));
    try {
      const talos = join(dir, 'talos');
      const theirs = upstreamFiles('api').filter((f) => f.endsWith('.proto'));
      for (const f of theirs) {
        mkdirSync(join(talos, dirname(f)), { recursive: true });
        writeFileSync(join(talos, f), upstreamFile(f)!);
      }
      const talosFiles = theirs.filter((f) => !f.startsWith('api/vendor/')).map((f) => f.slice('api/'.length));
      const expected = wireShape(descriptorSet(join(talos, 'api'), talosFiles, join(dir, 'talos.binpb'), [join(talos, 'api/vendor')]));

      const ours = execFileSync('git', ['-C', root, 'ls-files', 'proto'], { encoding: 'utf8' })
        .split('\n')
        .filter((f) => f.endsWith('.proto'))
        .map((f) => f.slice('proto/'.length))
        // the protos of other projects' APIs Bronze speaks, and of COSI's State service
        .filter((f) => !/^(containerd|etcd|discovery|cosi|google)\//.test(f));
      const actual = wireShape(descriptorSet(join(root, 'proto'), ours, join(dir, 'ours.binpb')));

      const differences: string[] = [];
      for (const [k, v] of expected) if (actual.get(k) !== v) differences.push(`${k}: Talos ${v}, ours ${actual.get(k) ?? '(missing)'}`);
      for (const k of actual.keys()) if (!expected.has(k)) differences.push(`${k}: not in Talos`);
      assert.deepEqual(differences, []);
      assert.ok([...expected.keys()].filter((k) => k.startsWith('method ')).length > 60);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
