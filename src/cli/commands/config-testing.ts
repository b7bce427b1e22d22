import { PassThrough } from 'node:stream';
import { type Command, CommandContext } from '../command.js';
import { parseArgs, UsageError } from '../flags.js';
import { globalFlags } from '../global-flags.js';

/** Output of one command run in-process. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the given commands in-process the way bronzectl's main does (subcommand words, global and command
 * flags, error on stderr and exit code 1), for tests of the gen, validate and config commands.
 */
export async function runCommands(commands: Command[], argv: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<RunResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  const input = new PassThrough();
  input.end(stdin);
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  let cmd: Command = { name: 'bronzectl', summary: '', subcommands: commands };
  const path = ['bronzectl'];
  let i = 0;
  while (i < argv.length && cmd.subcommands) {
    const sub = cmd.subcommands.find((c) => c.name === argv[i] || c.aliases?.includes(argv[i]!));
    if (!sub) break;
    cmd = sub;
    path.push(sub.name);
    i++;
  }
  let code: number;
  try {
    if (!cmd.run) throw new UsageError(`unknown command "${argv[i]}" for "${path.join(' ')}"`);
    const parsed = parseArgs(argv.slice(i), [...globalFlags, ...(cmd.flags ?? [])]);
    code = (await cmd.run(new CommandContext({ stdout: out, stderr: err, stdin: input, env, signal: new AbortController().signal }, parsed, path))) ?? 0;
  } catch (e) {
    err.write(`error: ${(e as Error).message}\n`);
    code = 1;
  }
  return { code, stdout, stderr };
}
