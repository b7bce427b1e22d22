import { existsSync } from 'node:fs';
import { loadTalosconfig, SERVICE_ACCOUNT_TALOSCONFIG, type Talosconfig, type TalosconfigContext, talosconfigPath, writeTalosconfig } from '../../client/talosconfig.js';
import type { CommandContext } from '../command.js';

/** The talosconfig the command works on (global `--talosconfig`, `$TALOSCONFIG`, `~/.talos/config`). */
export interface OpenTalosconfig {
  path: string;
  config: Talosconfig;
}

/** Opens the talosconfig; with `create`, a missing file is an empty config (saved on the first change). */
export async function openTalosconfig(ctx: CommandContext, opts: { create?: boolean } = {}): Promise<OpenTalosconfig> {
  const path = talosconfigPath(ctx.string('talosconfig'), ctx.io.env);
  if (opts.create && !existsSync(path)) return { path, config: { context: '', contexts: {} } };
  try {
    return { path, config: await loadTalosconfig(path) };
  } catch (e) {
    throw new Error(`error reading config: ${(e as Error).message}`, { cause: e });
  }
}

/** The context a command changes: `--context`, else the current one; errors as talosctl's. */
export function selectedContext(ctx: CommandContext, c: OpenTalosconfig, name = ctx.string('context') || c.config.context): { name: string; context: TalosconfigContext } {
  if (!name) throw new Error('no context is set');
  const context = c.config.contexts[name];
  if (!context) throw new Error(`context ${JSON.stringify(name)} is not defined`);
  return { name, context };
}

export async function saveTalosconfig(c: OpenTalosconfig): Promise<void> {
  if (c.path === SERVICE_ACCOUNT_TALOSCONFIG) throw new Error(`not allowed to write to config: ${c.path}`);
  try {
    await writeTalosconfig(c.path, c.config);
  } catch (e) {
    throw new Error(`error writing config: ${(e as Error).message}`, { cause: e });
  }
}
