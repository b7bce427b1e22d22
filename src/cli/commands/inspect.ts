import { dependencyGraphDot, type DependencyEdge } from '../../cosi/controller/runtime.js';
import { ControllerRuntimeDependency, DependencyEdgeType } from '../../api/gen/inspect/inspect.js';
import type { Command } from '../command.js';
import { defaultNode, perNode, withClient } from '../connection.js';
import { outputFormat, printStructured } from '../output/format.js';

const edgeNames: Record<number, DependencyEdge['edgeType']> = {
  [DependencyEdgeType.OUTPUT_EXCLUSIVE]: 'OUTPUT_EXCLUSIVE',
  [DependencyEdgeType.OUTPUT_SHARED]: 'OUTPUT_SHARED',
  [DependencyEdgeType.INPUT_STRONG]: 'INPUT_STRONG',
  [DependencyEdgeType.INPUT_WEAK]: 'INPUT_WEAK',
  [DependencyEdgeType.INPUT_DESTROY_READY]: 'INPUT_DESTROY_READY',
};

const dependencies: Command = {
  name: 'dependencies',
  summary: 'Inspect controller-resource dependencies as graphviz graph.',
  flags: [
    { name: 'with-resources', kind: 'bool', description: 'display live resource information with dependencies' },
    { name: 'output', short: 'o', kind: 'string', description: 'output format: dot (default), json or yaml (the edges)', default: 'dot' },
  ],
  async run(ctx) {
    ctx.expectArgs(0);
    const format = outputFormat(ctx, ['dot', 'json', 'yaml'] as const);
    return withClient(ctx, async (conn) => {
      const { items, failed } = perNode(ctx, await conn.client.inspect.controllerRuntimeDependencies(), defaultNode(conn));
      for (const { value } of items) {
        const edges = value.edges.map((e) => ({ ...e, edgeType: edgeNames[e.edgeType] ?? 'INPUT_WEAK' }));
        if (format === 'dot') ctx.out(dependencyGraphDot(edges));
      }
      if (format !== 'dot') printStructured(ctx, format, items.map(({ node, value }) => ({ node, value: ControllerRuntimeDependency.toJSON(value) })));
      return failed ? 1 : 0;
    });
  },
};

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Inspect internals of Talos',
  subcommands: [dependencies],
};
