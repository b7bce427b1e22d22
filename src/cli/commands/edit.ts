import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MachineConfigType } from '../../resources/config/machine-config.js';
import type { Command, CommandContext } from '../command.js';
import { withClient } from '../connection.js';
import { describeError } from '../errors.js';
import { applyTo, forEachMachineConfig, machineConfigArgs, machineConfigFlags, sameConfig, skipped } from './machineconfig-shared.js';

/** The editor to run, as talosctl picks it: $TALOS_EDITOR, then $EDITOR (and $VISUAL), then vi. */
export function editorCommand(env: NodeJS.ProcessEnv): string {
  for (const k of ['TALOS_EDITOR', 'EDITOR', 'VISUAL']) {
    const v = env[k]?.trim();
    if (v) return v;
  }
  return 'vi';
}

/** Runs the editor on `path` through the shell (so `EDITOR="code --wait"` works), on the terminal of this process. */
async function launch(ctx: CommandContext, path: string): Promise<void> {
  const editor = editorCommand(ctx.io.env);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'editor', path], { stdio: 'inherit', env: ctx.io.env, signal: ctx.io.signal });
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`the editor "${editor}" exited with status ${code}`);
}

/** Drops the leading `# ` lines the editing header and error notes are made of. */
function stripEditingComment(text: string): string {
  let t = text;
  while (t.startsWith('# ') || t.startsWith('#\n')) {
    const nl = t.indexOf('\n');
    if (nl < 0) return '';
    t = t.slice(nl + 1);
  }
  return t;
}

const withoutComments = (t: string) =>
  t
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .trim();

const editingComment = (err: string) => `# \n# ${err.split('\n').join('\n# ')}\n`;

export const editCommand: Command = {
  name: 'edit',
  summary: 'Edit Talos node machine configuration with the default editor.',
  usage: 'machineconfig',
  flags: [...machineConfigFlags, { name: 'dry-run', kind: 'bool', description: 'do not apply the change after editing and print the change summary instead' }],
  async run(ctx) {
    const { id } = machineConfigArgs(ctx, 'edited');
    const dir = await mkdtemp(join(tmpdir(), `${MachineConfigType}-${id}-edit-`));
    try {
      return await withClient(ctx, async (conn) => {
        const failed = await forEachMachineConfig(ctx, conn, id, async (nc) => {
          const path = join(dir, `${nc.node.replace(/[^\w.-]/g, '_')}.yaml`);
          let edited = nc.body;
          let lastError = '';
          for (;;) {
            const previous = edited;
            await writeFile(path, `# Editing ${MachineConfigType}/${id} at node ${nc.node}\n${lastError ? editingComment(lastError) : ''}${edited}`, { mode: 0o600 });
            await launch(ctx, path);
            edited = stripEditingComment(await readFile(path, 'utf8'));
            if (lastError && sameConfig(previous, edited)) {
              // the working directory goes away: the copy is kept beside it
              const kept = `${dir}-${nc.node.replace(/[^\w.-]/g, '_')}.yaml`;
              await writeFile(kept, edited, { mode: 0o600 });
              throw new Error(`${lastError}\nA copy of your changes has been stored to "${kept}"\nEdit canceled, no valid changes were saved.`);
            }
            if (withoutComments(edited) === '') {
              skipped(ctx, nc.node, 'empty file');
              return;
            }
            if (edited === nc.body) {
              skipped(ctx, nc.node, 'no changes detected');
              return;
            }
            try {
              const printResults = await applyTo(ctx, conn, nc, edited);
              printResults();
              return;
            } catch (e) {
              if (ctx.io.signal.aborted) throw e;
              lastError = describeError(e);
            }
          }
        });
        return failed ? 1 : 0;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
