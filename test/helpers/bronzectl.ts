import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { ClusterInfo } from '../../src/provision/process.js';

export interface CLIResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bronzectl in-process with `env` as its environment, capturing its output. */
export async function bronzectl(args: string[], env: NodeJS.ProcessEnv = { HOME: '/nonexistent' }): Promise<CLIResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const code = await run(args, { stdout: out, stderr: err, stdin: new PassThrough(), env, signal: new AbortController().signal });
  return { code, stdout, stderr };
}

/**
 * Destroys a process cluster a test made (`state` is its --state directory), then kills the process group of any
 * node that destroy left behind.
 */
export async function destroyProcessCluster(name: string, state: string, env: NodeJS.ProcessEnv, info?: ClusterInfo): Promise<void> {
  await bronzectl(['cluster', 'destroy', '--name', name, '--state', state], env);
  for (const n of info?.nodes ?? []) {
    try {
      process.kill(-n.pid, 'SIGKILL');
    } catch {
      // stopped by destroy
    }
  }
}
