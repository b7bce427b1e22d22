import { type Command, CommandContext, type CommandIO } from './command.js';
import { goDuration } from '../config/decode.js';
import { commands } from './commands/index.js';
import { describeError } from './errors.js';
import { type FlagSpec, parseArgs, UsageError } from './flags.js';
import { globalFlags } from './global-flags.js';

export const root: Command = {
  name: 'bronzectl',
  summary: 'A CLI for out-of-band management of Kubernetes nodes created by Bronze (and Talos)',
  subcommands: commands,
};

function findSub(cmd: Command, name: string): Command | undefined {
  return cmd.subcommands?.find((c) => c.name === name || c.aliases?.includes(name));
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s}  ` : s + ' '.repeat(n - s.length);
}

function flagLine(f: FlagSpec): string {
  const names = f.short ? `-${f.short}, --${f.name}` : `    --${f.name}`;
  const kind = f.kind === 'bool' ? '' : f.kind === 'list' ? ' strings' : f.kind === 'int' ? ' int' : f.kind === 'duration' ? ' duration' : ' string';
  const def =
    f.default === undefined || f.default === false || f.default === '' || (Array.isArray(f.default) && f.default.length === 0)
      ? ''
      : ` (default ${Array.isArray(f.default) ? `[${f.default.join(',')}]` : f.kind === 'duration' ? goDuration(Number(f.default)) : String(f.default)})`;
  return `  ${pad(names + kind, 36)}${f.description}${def}\n`;
}

export function helpText(path: string[], cmd: Command): string {
  let s = `${cmd.summary}\n\nUsage:\n`;
  const full = path.join(' ');
  if (cmd.run) s += `  ${full}${cmd.flags?.length ? ' [flags]' : ''}${cmd.usage ? ` ${cmd.usage}` : ''}\n`;
  if (cmd.subcommands?.length) s += `  ${full} [command]\n`;
  if (cmd.aliases?.length) s += `\nAliases:\n  ${[cmd.name, ...cmd.aliases].join(', ')}\n`;
  if (cmd.subcommands?.length) {
    s += '\nAvailable Commands:\n';
    for (const c of cmd.subcommands.filter((x) => !x.hidden).sort((a, b) => a.name.localeCompare(b.name))) s += `  ${pad(c.name, 20)}${c.summary}\n`;
  }
  const own = (cmd.flags ?? []).filter((f) => !f.hidden);
  if (own.length) s += `\nFlags:\n${own.map(flagLine).join('')}`;
  s += `\nGlobal Flags:\n${globalFlags.map(flagLine).join('')}`;
  if (cmd.subcommands?.length) s += `\nUse "${full} [command] --help" for more information about a command.\n`;
  return s;
}

function defaultIO(): CommandIO {
  const ac = new AbortController();
  const stop = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  // a reader that goes away (`| head`) ends the command quietly, as a Go program ends on SIGPIPE
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      ac.abort(new Error('output closed'));
      process.exit(0);
    });
  }
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: ac.signal };
}

/** Runs bronzectl with the given arguments and returns the exit code. */
export async function run(argv: string[], io: CommandIO = defaultIO()): Promise<number> {
  // walk down the command tree over leading words; flags may come anywhere after
  let cmd = root;
  const path = ['bronzectl'];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      rest.push(a);
      // skip the value of a non-boolean flag given as a separate word, so it is not taken for a command
      const spec = [...globalFlags, ...(cmd.flags ?? [])].find((f) => (a.startsWith('--') ? `--${f.name}` === a : f.short && `-${f.short}` === a));
      if (spec && spec.kind !== 'bool' && i + 1 < argv.length) rest.push(argv[++i]!);
      continue;
    }
    const sub = findSub(cmd, a);
    if (!sub) break;
    cmd = sub;
    path.push(sub.name);
  }
  rest.push(...argv.slice(i));

  try {
    if (!cmd.run && i < argv.length && argv[i] !== '--') throw new UsageError(`unknown command "${argv[i]}" for "${path.join(' ')}"`);
    const parsed = parseArgs(rest, [...globalFlags, ...(cmd.flags ?? [])]);
    if (parsed.flags.get('help') === true || (!cmd.run && parsed.positional.length === 0)) {
      io.stdout.write(helpText(path, cmd));
      return 0;
    }
    if (!cmd.run) throw new UsageError(`unknown command "${parsed.positional[0]}" for "${path.join(' ')}"`);
    const code = await cmd.run(new CommandContext(io, parsed, path, root));
    return code ?? 0;
  } catch (e) {
    const err = e as Error;
    io.stderr.write(`error: ${describeError(err)}\n`);
    if (err instanceof UsageError) io.stderr.write(`Run '${path.join(' ')} --help' for usage.\n`);
    return 1;
  }
}
