import { createInterface } from 'node:readline';
import type { Command, CommandContext } from '../command.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';
import { openTalosconfig, saveTalosconfig } from './config-shared.js';

/** Glob with `*` only, as ryanuber/go-glob (what talosctl matches context names with). */
export function globMatch(pattern: string, subject: string): boolean {
  if (pattern === '*') return true;
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === subject;
  if (!subject.startsWith(parts[0]!)) return false;
  let pos = parts[0]!.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const idx = subject.indexOf(parts[i]!, pos);
    if (idx < 0) return false;
    pos = idx + parts[i]!.length;
  }
  const last = parts[parts.length - 1]!;
  return subject.length - last.length >= pos && subject.endsWith(last);
}

/** Reads answers line by line from one readline interface (answers may arrive in one chunk). */
function answers(ctx: CommandContext): { next: () => Promise<string>; close: () => void } {
  const rl = createInterface({ input: ctx.io.stdin, terminal: false });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let closed = false;
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  rl.on('close', () => {
    closed = true;
    while (waiting.length) waiting.shift()!('');
  });
  return {
    next: () => (lines.length ? Promise.resolve(lines.shift()!) : closed ? Promise.resolve('') : new Promise((resolve) => waiting.push(resolve))),
    close: () => rl.close(),
  };
}

async function confirm(ctx: CommandContext, input: ReturnType<typeof answers>, prompt: string): Promise<boolean> {
  ctx.err(`${prompt} [y/N]: `);
  return /^y(es)?$/i.test((await input.next()).trim());
}

export const configRemoveCommand: Command = {
  name: 'remove',
  summary: 'Remove contexts',
  usage: '<context>',
  flags: [
    { name: 'noconfirm', short: 'y', kind: 'bool', description: 'do not ask for confirmation' },
    { name: 'dry-run', kind: 'bool', description: 'dry run' },
    resultOutputFlag,
  ],
  async run(ctx) {
    const [pattern] = ctx.expectArgs(1) as [string];
    resultFormat(ctx);
    if (!pattern) throw new Error('no context specified');
    const c = await openTalosconfig(ctx);
    const names = Object.keys(c.config.contexts);
    if (!names.length) throw new Error('no contexts defined');
    const matches = names.filter((n) => globMatch(pattern, n)).sort();
    if (!matches.length) throw new Error(`no contexts matched ${JSON.stringify(pattern)}`);
    const removed: string[] = [];
    const input = ctx.bool('noconfirm') ? undefined : answers(ctx);
    try {
      for (const name of matches) {
        if (name === c.config.context) {
          ctx.err(`skipping removal of current context ${JSON.stringify(name)}, please change it to another before removing\n`);
          continue;
        }
        if (input) {
          if (!(await confirm(ctx, input, `remove context ${JSON.stringify(name)}?`))) continue;
        } else ctx.err(`removing context ${JSON.stringify(name)}\n`);
        removed.push(name);
        delete c.config.contexts[name];
      }
    } finally {
      input?.close();
    }
    const dryRun = ctx.bool('dry-run');
    if (!dryRun && removed.length > 0) await saveTalosconfig(c);
    printResult(ctx, undefined, { talosconfig: c.path, removed, dryRun });
    return 0;
  },
};
