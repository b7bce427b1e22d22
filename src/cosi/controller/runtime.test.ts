import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { InMemoryState } from '../inmem.js';
import { State } from '../state.js';
import { controllerConformance } from './conformance/runtime-suite.js';
import { TransformController } from './generic/transform.js';
import { ControllerRuntime, dependencyGraphDot } from './runtime.js';

controllerConformance('in memory', async () => ({ state: new InMemoryState(), cleanup: async () => {} }));

const kind = (t: string) => ({ namespace: 'test', type: `${t}s.test.bronze.dev` });

describe('controller dependency graph', () => {
  it('draws as talosctl draws it: controllers as boxes, types as notes, styled edges', () => {
    const rt = new ControllerRuntime(new State(new InMemoryState()), pino({ level: 'silent' }));
    rt.register(
      new TransformController({
        name: 'test.D01',
        input: kind('Alpha'),
        output: kind('Beta'),
        inputFinalizers: true,
        emptySpec: () => ({}),
        mapID: (r) => r.metadata.id,
        transform: () => {},
        extraInputs: [{ ...kind('Gamma'), id: 'config', kind: 'weak' }],
      }),
    );
    assert.equal(
      dependencyGraphDot(rt.dependencies()),
      [
        'digraph  {',
        '\tn1[label="test.D01",shape="box"];',
        '\tn2[fillcolor="azure2",label="Betas.test.bronze.dev",shape="note",style="filled"];',
        '\tn3[fillcolor="azure2",label="Alphas.test.bronze.dev",shape="note",style="filled"];',
        '\tn4[fillcolor="azure2",label="Gammas.test.bronze.dev",shape="note",style="filled"];',
        '\tn1->n2[style="bold"];',
        '\tn3->n1[style="solid"];',
        '\tn4->n1[label="config",style="dotted"];',
        '}',
        '',
      ].join('\n'),
    );
    const withResources = dependencyGraphDot(rt.dependencies(), {
      resources: [
        { namespace: 'test', type: 'Alphas.test.bronze.dev', id: 'a', owner: '' },
        { namespace: 'test', type: 'Betas.test.bronze.dev', id: 'a', owner: 'test.D01' },
        { namespace: 'test', type: 'Betas.test.bronze.dev', id: 'stray', owner: 'someone.Else' },
      ],
    });
    assert.match(withResources, /subgraph cluster_s0 \{\n\t\tlabel="Alphas.test.bronze.dev";/);
    assert.match(withResources, /n1->n\d\[style="solid"\];/);
    assert.equal(withResources.match(/->/g)?.length, 2, 'the output edge goes to the owned resource only, plus the input edge');
  });
});
