/**
 * The image's entry, /usr/lib/bronze/dist/bronze.js: runs the bundle of the role it is asked for, with the V8 code cache
 * the image build made for that role (`<bundle>.<role>.cache`, the role being the first argument). apid and trustd have
 * bundles of their own (bronze-apid.cjs, bronze-trustd.cjs: esbuild's CommonJS output of roles-apid.ts and
 * roles-trustd.ts); machined and any other role run bronze.cjs, the bundle of roles.ts. With one bundle for all, V8 held
 * the whole bundle's source and top-level code in apid and trustd too: 8 MiB more of each one's anonymous memory.
 * Under emulation, parsing and compiling a bundle took most of a role's start: the cache spares it. One cache per role:
 * a cache of every role's code made apid and trustd hold machined's compiled code too.
 *
 * The image build runs `bronze.js <role>` with BRONZE_CODE_CACHE=write: that role's code is loaded (not run) and the
 * code V8 compiled for it is written to the role's cache; BRONZE_CODE_CACHE=check then fails unless V8 accepts it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

import type { RoleProgram } from './role-program.js';

/** The roles with a bundle of their own; the rest run bronze.cjs. */
const OWN_BUNDLE = new Set(['apid', 'trustd']);

const role = process.argv[2] ?? '';
const bundle = fileURLToPath(new URL(OWN_BUNDLE.has(role) ? `./bronze-${role}.cjs` : './bronze.cjs', import.meta.url));
const cacheFile = /^[a-z]+$/.test(role) ? `${bundle}.${role}.cache` : undefined;
const mode = process.env.BRONZE_CODE_CACHE;
delete process.env.BRONZE_CODE_CACHE;
if (mode !== undefined && cacheFile === undefined) {
  process.stderr.write(`BRONZE_CODE_CACHE=${mode}: name the role whose cache it is as the first argument\n`);
  process.exit(2);
}

/** Compiles and runs the bundle; says whether there was a cache and whether V8 took it (the cache is not kept). */
function loadBundle(): { roles: RoleProgram; script: Script; cached: boolean; rejected: boolean } {
  let cachedData: Buffer | undefined;
  if (mode !== 'write' && cacheFile !== undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // no cache: V8 compiles the bundle
    }
  }
  // the bundle as CommonJS runs it: one function of the module's variables
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, cachedData });
  const mod: { exports: Partial<RoleProgram> } = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  return { roles: mod.exports as RoleProgram, script, cached: cachedData !== undefined, rejected: script.cachedDataRejected === true };
}

const { roles, script, cached, rejected } = loadBundle();
// a cache V8 does not take only costs time: say so on the console
if (cached && rejected && mode === undefined) process.stderr.write(`${cacheFile}: rejected by V8, the bundle was compiled\n`);

if (mode === 'write') {
  await roles.loadRole(role);
  writeFileSync(cacheFile!, script.createCachedData());
} else if (mode === 'check') {
  if (!cached || rejected) {
    process.stderr.write(`${cacheFile!}: ${cached ? 'rejected by V8' : 'missing'}\n`);
    process.exitCode = 1;
  }
} else {
  process.exitCode = await roles.main();
}
