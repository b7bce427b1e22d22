import { createInterface } from 'node:readline';
import type { Command, CommandContext } from '../command.js';
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

async function confirm(ctx: CommandContext, prompt: string): Promise<boolean> {
  ctx.err(`${prompt} [y/N]: `);
  const rl = createInterface({ input: ctx.io.stdin, terminal: false });
  try {
    const line = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(line.trim());
  } finally {
    rl.close();
  }
}

export const configRemoveCommand: Command = {
  name: 'remove',
  summary: 'Remove contexts',
  usage: '<context>',
  flags: [
    { name: 'noconfirm', short: 'y', kind: 'bool', description: 'do not ask for confirmation' },
    { name: 'dry-run', kind: 'bool', description: 'dry run' },
  ],
  async run(ctx) {
    const [pattern] = ctx.expectArgs(1) as [string];
    if (!pattern) throw new Error('no context specified');
    const c = await openTalosconfig(ctx);
    const names = Object.keys(c.config.contexts);
    if (!names.length) throw new Error('no contexts defined');
    const matches = names.filter((n) => globMatch(pattern, n)).sort();
    if (!matches.length) throw new Error(`no contexts matched ${JSON.stringify(pattern)}`);
    let changed = false;
    for (const name of matches) {
      if (name === c.config.context) {
        ctx.err(`skipping removal of current context ${JSON.stringify(name)}, please change it to another before removing\n`);
        continue;
      }
      if (!ctx.bool('noconfirm')) {
        if (!(await confirm(ctx, `remove context ${JSON.stringify(name)}?`))) continue;
      } else ctx.err(`removing context ${JSON.stringify(name)}\n`);
      changed = true;
      delete c.config.contexts[name];
    }
    if (ctx.bool('dry-run') || !changed) return 0;
    await saveTalosconfig(c);
    return 0;
  },
};
