import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as table from './method-table.js';
import { type MethodInfo, methods, parseMethodPath, services } from './services.js';

describe('registered gRPC methods', () => {
  // apid routes by the written-out table: a method added to the protos (and so to the generated code) but not to the
  // table, or the other way round, fails here
  it('are exactly those of the table apid routes by, with the same streaming kinds and envelopes', () => {
    const generated = [...methods().values()].sort((a, b) => a.path.localeCompare(b.path));
    const written = [...table.methods().values()].sort((a, b) => a.path.localeCompare(b.path));
    const paths = (l: MethodInfo[]) => new Set(l.map((m) => m.path));
    assert.deepEqual([...paths(generated)].filter((p) => !paths(written).has(p)), [], 'generated but missing from src/api/method-table.ts');
    assert.deepEqual([...paths(written)].filter((p) => !paths(generated).has(p)), [], 'in src/api/method-table.ts but not generated');
    assert.deepEqual(written, generated);
    const brief = (l: readonly { name: string; apid: boolean; envelope: boolean }[]) => l.map(({ name, apid, envelope }) => ({ name, apid, envelope }));
    assert.deepEqual(brief(table.services), brief(services));
  });

  it('count 54 MachineService RPCs and 75 in all', () => {
    const per = new Map<string, number>();
    for (const m of methods().values()) per.set(m.service, (per.get(m.service) ?? 0) + 1);
    assert.equal(per.get('machine.MachineService'), 54);
    assert.equal(per.get('cosi.resource.State'), 6);
    assert.equal(methods().size, 75);
    assert.equal(services.length, 10);
  });

  it('know which services carry the metadata envelope', () => {
    assert.equal(methods().get('/machine.MachineService/Version')?.envelope, true);
    assert.equal(methods().get('/time.TimeService/Time')?.envelope, true);
    assert.equal(methods().get('/cosi.resource.State/Watch')?.envelope, false);
    assert.equal(methods().get('/machine.ImageService/List')?.envelope, false);
  });

  it('parse method paths', () => {
    assert.deepEqual(parseMethodPath('/machine.MachineService/Version'), { service: 'machine.MachineService', method: 'Version' });
    assert.equal(parseMethodPath('machine.MachineService/Version'), undefined);
    assert.equal(parseMethodPath('/x/y/z'), undefined);
  });
});
