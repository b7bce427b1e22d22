import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, normalize } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'yaml';
import { writeFileAtomicSync } from '../../sys/atomic-write.js';
import type { Command, CommandContext } from '../command.js';
import { defaultNode, withClient } from '../connection.js';
import { UsageError } from '../flags.js';
import { printResult, resultFormat, resultOutputFlag, textLines } from '../output/format.js';
import { extractFileFromTarGz } from '../tar.js';

interface Named {
  name: string;
  [k: string]: unknown;
}

interface Kubeconfig {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: (Named & { context?: { cluster?: string; user?: string; namespace?: string } })[];
  'current-context'?: string;
  [k: string]: unknown;
}

/** Where kubectl looks: the first path of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p !== '');
  return first ?? join(env.HOME ?? homedir(), '.kube', 'config');
}

/**
 * Merges a new kubeconfig into an existing one: clusters, users and contexts are added; one whose name is taken by a
 * different entry is renamed (`name-1`, `name-2`, ...) unless `force` overwrites it; the new context becomes current.
 * Returns the merged config and a line per rename.
 */
export function mergeKubeconfig(existing: Kubeconfig, incoming: Kubeconfig, opts: { force?: boolean; contextName?: string } = {}): { merged: Kubeconfig; notes: string[] } {
  const merged: Kubeconfig = structuredClone(existing);
  const notes: string[] = [];
  const add = (kind: 'clusters' | 'users' | 'contexts', item: Named): string => {
    const list = (merged[kind] ??= []);
    let name = item.name;
    const same = list.find((x) => x.name === name);
    if (same && !isDeepStrictEqual(same, item)) {
      if (opts.force) {
        list.splice(list.indexOf(same), 1);
      } else {
        let n = 1;
        while (list.some((x) => x.name === `${item.name}-${n}`)) n++;
        name = `${item.name}-${n}`;
        notes.push(`renamed ${kind.slice(0, -1)} "${item.name}" -> "${name}"`);
      }
    }
    if (!list.some((x) => x.name === name)) list.push({ ...item, name });
    return name;
  };
  const clusterNames = new Map<string, string>();
  const userNames = new Map<string, string>();
  for (const c of incoming.clusters ?? []) clusterNames.set(c.name, add('clusters', c));
  for (const u of incoming.users ?? []) userNames.set(u.name, add('users', u));
  let current = '';
  for (const c of incoming.contexts ?? []) {
    const ctx = { ...c, name: opts.contextName || c.name, context: { ...c.context } };
    if (ctx.context.cluster) ctx.context.cluster = clusterNames.get(ctx.context.cluster) ?? ctx.context.cluster;
    if (ctx.context.user) ctx.context.user = userNames.get(ctx.context.user) ?? ctx.context.user;
    const name = add('contexts', ctx);
    if (c.name === incoming['current-context'] || current === '') current = name;
  }
  if (current) merged['current-context'] = current;
  merged.apiVersion ??= 'v1';
  merged.kind ??= 'Config';
  return { merged, notes };
}

export const kubeconfigCommand: Command = {
  name: 'kubeconfig',
  summary: 'Download the admin kubeconfig from the node',
  usage: '[local-path]',
  flags: [
    { name: 'force', short: 'f', kind: 'bool', description: 'Force overwrite of kubeconfig if already present, force overwrite on kubeconfig merge' },
    { name: 'force-context-name', kind: 'string', description: 'Force context name for kubeconfig merge' },
    { name: 'merge', short: 'm', kind: 'bool', description: 'Merge with existing kubeconfig', default: true },
    resultOutputFlag,
  ],
  async run(ctx: CommandContext) {
    const [arg] = ctx.expectArgs(0, 1);
    const structured = resultFormat(ctx) !== undefined;
    let merge = ctx.bool('merge');
    let path = normalize(arg ?? (merge ? defaultKubeconfigPath(ctx.io.env) : process.cwd()));
    if (path !== '-') {
      if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'kubeconfig');
      if (existsSync(path) && !(ctx.bool('force') || merge)) throw new Error(`kubeconfig file already exists, use --force to overwrite: "${path}"`);
      if (!existsSync(path)) merge = false;
    }
    return withClient(ctx, async (conn) => {
      if (conn.nodes.length > 1) throw new UsageError('command "kubeconfig" is not supported with multiple nodes');
      const chunks: Buffer[] = [];
      for await (const d of conn.client.machine.kubeconfig({}, { node: conn.nodes[0] })) chunks.push(Buffer.from(d.bytes));
      const data = extractFileFromTarGz('kubeconfig', Buffer.concat(chunks));
      const node = defaultNode(conn);
      if (path === '-') {
        if (structured) printResult(ctx, node, { kubeconfig: data.toString('utf8') });
        else ctx.out(data.toString('utf8'));
        return 0;
      }
      if (!merge) {
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
        writeFileAtomicSync(path, data, 0o600);
        printResult(ctx, node, { path, merged: false });
        return 0;
      }
      const existing = (parse(readFileSync(path, 'utf8')) ?? {}) as Kubeconfig;
      const { merged, notes } = mergeKubeconfig(existing, parse(data.toString('utf8')) as Kubeconfig, { force: ctx.bool('force'), contextName: ctx.string('force-context-name') });
      for (const n of notes) textLines(ctx)(`${n}\n`);
      writeFileAtomicSync(path, Buffer.from(stringify(merged, { lineWidth: 0 })), 0o600);
      printResult(ctx, node, { path, merged: true, context: merged['current-context'] ?? '', notes });
      return 0;
    });
  },
};
