/**
 * The image's entry, /usr/lib/bronze/dist/bronze.js: runs the bundle beside it (bronze.cjs, esbuild's CommonJS output
 * of roles.ts) with the V8 code cache the image build made for it (bronze.cjs.cache). Under emulation, parsing and
 * compiling the whole bundle took most of machined's start, and apid and trustd paid it again.
 *
 * The image build runs it with BRONZE_CODE_CACHE=write: every role's code is loaded (not run) and the code V8 compiled
 * for it is written to the cache; BRONZE_CODE_CACHE=check then fails unless V8 accepts that cache.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

type Roles = typeof import('./roles.js');

const bundle = fileURLToPath(new URL('./bronze.cjs', import.meta.url));
const cacheFile = `${bundle}.cache`;
const mode = process.env.BRONZE_CODE_CACHE;
delete process.env.BRONZE_CODE_CACHE;

let cachedData: Buffer | undefined;
if (mode !== 'write') {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: V8 compiles the bundle
  }
}
// the bundle as CommonJS runs it: one function of the module's variables
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, { filename: bundle, cachedData });
const mod: { exports: Partial<Roles> } = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
const roles = mod.exports as Roles;
// a cache V8 does not take only costs time: say so on the console
if (cachedData !== undefined && script.cachedDataRejected === true && mode === undefined) process.stderr.write(`${cacheFile}: rejected by V8, the bundle was compiled\n`);

if (mode === 'write') {
  await roles.loadAllRoles();
  writeFileSync(cacheFile, script.createCachedData());
} else if (mode === 'check') {
  if (cachedData === undefined || script.cachedDataRejected !== false) {
    process.stderr.write(`${cacheFile}: ${cachedData === undefined ? 'missing' : 'rejected by V8'}\n`);
    process.exitCode = 1;
  }
} else {
  process.exitCode = await roles.main();
}
