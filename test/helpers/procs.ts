import { readdirSync, readFileSync } from 'node:fs';

/** pids of the live processes with an argument that contains `text` (a test's own directory, say) */
export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.includes(text))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** SIGKILLs the processes mentioning `text` and returns their command lines (what a test left behind) */
export function killProcessesMentioning(text: string): string[] {
  const left: string[] = [];
  for (const pid of processesMentioning(text)) {
    try {
      left.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim());
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return left;
}

/**
 * Waits until no process mentions `text`, at most `timeoutMs`: a service that ends by its lifeline (the pipe from a
 * killed machined closing) exits a moment after machined, not with it, later still when it was itself starting.
 */
export async function processesEnded(text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processesMentioning(text).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}
