import { parse, stringify } from 'yaml';
import type { Resource as PBResource } from '../../api/gen/cosi/resource.js';
import { EventType } from '../../api/gen/cosi/state.js';
import type { Client } from '../../client/client.js';
import { RpcError } from '../../client/errors.js';
import type { CallOptions } from '../../client/rpc.js';
import type { Command, CommandContext } from '../command.js';
import { connect } from '../connection.js';
import { nodeFailure } from '../errors.js';
import { UsageError } from '../flags.js';
import { evaluateJSONPath } from '../output/jsonpath.js';
import { tabulate } from '../output/tabwriter.js';

interface Definition {
  type: string;
  displayType: string;
  defaultNamespace: string;
  allAliases: string[];
  printColumns: { name: string; jsonPath: string }[];
}

/** Finds the resource definition a name or alias means, as talosctl does (case-insensitive, exactly one match). */
async function resolve(client: Client, name: string, opts: CallOptions): Promise<Definition> {
  const want = name.toLowerCase();
  const matches: Definition[] = [];
  for await (const m of client.cosi.list({ namespace: 'meta', type: 'ResourceDefinitions.meta.cosi.dev' }, opts)) {
    const spec = parse(m.resource?.spec?.yamlSpec ?? '') as Definition & { printColumns?: Definition['printColumns'] };
    if (!spec) continue;
    if (m.resource?.metadata?.id === want || (spec.allAliases ?? []).some((a) => a.toLowerCase() === want)) matches.push({ ...spec, printColumns: spec.printColumns ?? [] });
  }
  if (matches.length === 0) throw new Error(`resource "${name}" is not registered`);
  if (matches.length > 1) throw new Error(`resource type "${name}" is ambiguous: ${matches.map((m) => m.type).join(', ')}`);
  return matches[0]!;
}

/** Resolves on the first node that answers: a node that is down is reported later, beside the others' output. */
async function resolveOnAny(client: Client, name: string, routes: CallOptions[]): Promise<Definition> {
  for (const [i, opts] of routes.entries()) {
    try {
      return await resolve(client, name, opts);
    } catch (e) {
      if (!(e instanceof RpcError) || i === routes.length - 1) throw e;
    }
  }
  throw new Error('no node to ask');
}

/** Metadata as talosctl's YAML shows it, in its key order, empty collections left out. */
function metadataYAML(r: PBResource): Record<string, unknown> {
  const m = r.metadata!;
  const out: Record<string, unknown> = { namespace: m.namespace, type: m.type, id: m.id, version: Number(m.version) || m.version, owner: m.owner, phase: m.phase };
  if (m.created) out.created = m.created.toISOString().replace(/\.000Z$/, 'Z');
  if (m.updated) out.updated = m.updated.toISOString().replace(/\.000Z$/, 'Z');
  if (Object.keys(m.labels).length) out.labels = m.labels;
  if (Object.keys(m.annotations).length) out.annotations = m.annotations;
  if (m.finalizers.length) out.finalizers = m.finalizers;
  return out;
}

function specOf(r: PBResource): unknown {
  const text = r.spec?.yamlSpec ?? '';
  return text === '' ? null : parse(text);
}

type Printer = { resource(node: string, r: PBResource, event?: string): void; flush(): void };

function printer(ctx: CommandContext, format: string, def: Definition, watch: boolean): Printer {
  if (format === 'table') {
    const rows: string[][] = [['NODE', ...(watch ? ['*'] : []), 'NAMESPACE', 'TYPE', 'ID', 'VERSION', ...def.printColumns.map((c) => c.name.toUpperCase())]];
    const print = () => {
      ctx.out(tabulate(rows));
      rows.length = 0;
    };
    return {
      resource(node, r, event) {
        const spec = specOf(r);
        const mark = event === 'created' ? '+' : event === 'destroyed' ? '-' : ' ';
        rows.push([node, ...(watch ? [mark] : []), r.metadata!.namespace, def.displayType, r.metadata!.id, r.metadata!.version, ...def.printColumns.map((c) => evaluateJSONPath(c.jsonPath, spec))]);
        if (watch) print();
      },
      flush: () => {
        if (rows.length) print();
      },
    };
  }
  let first = true;
  return {
    resource(node, r, event) {
      const doc: Record<string, unknown> = { node, ...(event ? { event } : {}), metadata: metadataYAML(r), spec: specOf(r) };
      if (format === 'yaml') {
        ctx.out(`${first ? '' : '---\n'}${stringify(doc, { lineWidth: 0, indent: 4 })}`);
      } else if (format === 'json') {
        ctx.out(`${JSON.stringify(doc, null, 4)}\n`);
      } else {
        ctx.out(`${evaluateJSONPath(format.slice('jsonpath='.length), doc)}\n`);
      }
      first = false;
    },
    flush: () => {},
  };
}

const EVENT_NAMES: Record<number, string> = { [EventType.CREATED]: 'created', [EventType.UPDATED]: 'updated', [EventType.DESTROYED]: 'destroyed' };

export const getCommand: Command = {
  name: 'get',
  summary: 'Get a specific resource or list of resources (use "bronzectl get rd" to see all available resource types)',
  usage: '<type> [<id>]',
  flags: [
    { name: 'output', short: 'o', kind: 'string', description: 'output mode (json, table, yaml, jsonpath={expr})', default: 'table' },
    { name: 'namespace', kind: 'string', description: 'resource namespace (default is to use default namespace per resource)' },
    { name: 'watch', short: 'w', kind: 'bool', description: 'watch resource changes' },
    { name: 'insecure', short: 'i', kind: 'bool', description: 'get resources using the insecure (encrypted with no auth) maintenance service' },
  ],
  async run(ctx) {
    const [typeName, id] = ctx.expectArgs(1, 2);
    const format = ctx.string('output') ?? 'table';
    if (!['table', 'yaml', 'json'].includes(format) && !format.startsWith('jsonpath=')) throw new UsageError(`--output: unknown format "${format}" (one of: table, yaml, json, jsonpath={expr})`);
    const conn = await connect(ctx, { insecure: ctx.bool('insecure') });
    try {
      const nodes = conn.nodes.length ? conn.nodes : [undefined];
      const route = (n: string | undefined): CallOptions => ({ ...(n ? { node: n } : { nodes: [] }), signal: ctx.io.signal });
      const def = await resolveOnAny(conn.client, typeName!, nodes.map(route));
      const namespace = ctx.string('namespace') ?? def.defaultNamespace;
      const out = printer(ctx, format, def, ctx.bool('watch'));
      let failed = false;
      const label = (n: string | undefined) => n ?? conn.client.endpoints[0]!.host;
      if (ctx.bool('watch')) {
        // a node that fails is one line on stderr; the watches of the others go on
        await Promise.all(
          nodes.map(async (n) => {
            const req = id ? { namespace, type: def.type, id, apiVersion: 1 } : { namespace, type: def.type, apiVersion: 1, options: { bootstrapContents: true } };
            try {
              for await (const m of conn.client.cosi.watch(req, route(n))) {
                for (const ev of m.event) {
                  const name = EVENT_NAMES[ev.eventType];
                  if (name && ev.resource) out.resource(label(n), ev.resource, name);
                  if (ev.eventType === EventType.BOOTSTRAPPED) out.flush();
                }
              }
            } catch (e) {
              if (ctx.io.signal.aborted) return;
              failed = true;
              ctx.err(`error: ${nodeFailure(label(n), e)}\n`);
            }
          }),
        );
        return failed ? 1 : 0;
      }
      for (const n of nodes) {
        try {
          if (id) out.resource(label(n), (await conn.client.cosi.get({ namespace, type: def.type, id }, route(n))).resource!);
          else for await (const m of conn.client.cosi.list({ namespace, type: def.type }, route(n))) out.resource(label(n), m.resource!);
        } catch (e) {
          failed = true;
          ctx.err(`error: ${nodeFailure(label(n), e)}\n`);
        }
      }
      out.flush();
      return failed ? 1 : 0;
    } finally {
      conn.client.close();
    }
  },
};
