#!/usr/bin/env node
/** machined, apid and trustd: the role comes from the first argument or the program name (see roles.ts). */
import { main } from './roles.js';

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
