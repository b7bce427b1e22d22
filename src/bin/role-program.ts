import { basename } from 'node:path';
import { quietIPServerNameWarning } from '../client/warnings.js';
import { dieWithSupervisor, watchLifeline } from '../sys/lifeline.js';

/** A role's entry: the arguments after the role, the signal that asks it to stop; resolves with the exit status. */
export type RoleMain = (argv: string[], signal: AbortSignal) => Promise<number>;

/** The roles a program can run, each imported only when it runs. */
export type RoleTable = Record<string, () => Promise<{ run: RoleMain }>>;

/** A program that runs one of `roles`: what `bronze.js` is, and what each of the image's bundles exports. */
export interface RoleProgram {
  /**
   * Loads (evaluates) one role's code without running it: the image build warms that role's code cache with this.
   * Rejects for a name that is not one of the program's roles.
   */
  loadRole(name: string): Promise<void>;
  /** Runs the role the command line names; resolves with the process's exit status. */
  main(args?: string[], program?: string): Promise<number>;
}

export function roleProgram(roles: RoleTable): RoleProgram {
  const names = Object.keys(roles).join('|');
  return {
    async loadRole(name) {
      if (!Object.hasOwn(roles, name)) throw new Error(`unknown role ${JSON.stringify(name)} (this program runs ${names})`);
      await roles[name]!();
    },
    async main(args = process.argv.slice(2), program = process.argv[1] ?? '') {
      quietIPServerNameWarning();
      const argv = [...args];
      const prog = basename(program);
      const role = Object.hasOwn(roles, prog) ? prog : argv.shift();
      if (role === undefined || !Object.hasOwn(roles, role)) {
        process.stderr.write(`usage: bronze ${names} [flags] (unknown role ${JSON.stringify(role ?? '')})\n`);
        return 2;
      }
      const ac = new AbortController();
      process.once('SIGTERM', () => ac.abort());
      process.once('SIGINT', () => ac.abort());
      // a service of machined ends with it, even when machined was killed outright: the kernel kills it (when the
      // native addon is there), and the lifeline pipe lets it stop cleanly otherwise
      dieWithSupervisor();
      watchLifeline(() => {
        ac.abort();
        setTimeout(() => process.exit(1), 5000).unref();
      });
      const { run } = await roles[role]!();
      return run(argv, ac.signal);
    },
  };
}
