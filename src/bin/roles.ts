/**
 * The node's programs in one code base: the role comes from the first argument or the program name (`machined`,
 * `apid`, `trustd`; and `discovery`, the discovery service a local cluster runs), as Talos's /sbin/init does. Each
 * role's code is imported only when that role runs, so apid and trustd do not load (nor evaluate) machined's
 * controllers, and the other way round.
 */
import { basename } from 'node:path';
import { quietIPServerNameWarning } from '../client/warnings.js';
import { dieWithSupervisor, watchLifeline } from '../sys/lifeline.js';

/** A role's entry: the arguments after the role, the signal that asks it to stop; resolves with the exit status. */
export type RoleMain = (argv: string[], signal: AbortSignal) => Promise<number>;

const roles: Record<string, () => Promise<{ run: RoleMain }>> = {
  machined: () => import('./role-machined.js'),
  apid: () => import('./role-apid.js'),
  trustd: () => import('./role-trustd.js'),
  discovery: () => import('./role-discovery.js'),
};

/**
 * Loads (evaluates) one role's code without running it: the image build warms that role's code cache with this.
 * Rejects for a name that is not a role.
 */
export async function loadRole(name: string): Promise<void> {
  if (!Object.hasOwn(roles, name)) throw new Error(`unknown role ${JSON.stringify(name)}`);
  await roles[name]!();
}

/** Runs the role the command line names; resolves with the process's exit status. */
export async function main(args: string[] = process.argv.slice(2), program: string = process.argv[1] ?? ''): Promise<number> {
  quietIPServerNameWarning();
  const argv = [...args];
  const prog = basename(program);
  const role = Object.hasOwn(roles, prog) ? prog : argv.shift();
  if (role === undefined || !Object.hasOwn(roles, role)) {
    process.stderr.write(`usage: bronze machined|apid|trustd|discovery [flags] (unknown role ${JSON.stringify(role ?? '')})\n`);
    return 2;
  }
  const ac = new AbortController();
  process.once('SIGTERM', () => ac.abort());
  process.once('SIGINT', () => ac.abort());
  // a service of machined ends with it, even when machined was killed outright: the kernel kills it (when the native
  // addon is there), and the lifeline pipe lets it stop cleanly otherwise
  dieWithSupervisor();
  watchLifeline(() => {
    ac.abort();
    setTimeout(() => process.exit(1), 5000).unref();
  });
  const { run } = await roles[role]!();
  return run(argv, ac.signal);
}
