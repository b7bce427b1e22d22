import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

/**
 * What loading a role's code loads, module by module: a child Node records every module it loads (a module hook), imports
 * the role's entry and prints the list.
 */
function loadedBy(entry: string): string[] {
  const hook = `let port; export function initialize(d) { port = d.port; } export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
  const script = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const seen = [];
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (u) => seen.push(u));
    port1.unref();
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
    await import(${JSON.stringify(entry)});
    await new Promise((r) => setTimeout(r, 100));
    process.stdout.write(JSON.stringify(seen));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as string[];
}

const role = (name: string) => new URL(`./role-${name}.ts`, import.meta.url).href;

// apid and trustd stay resident on every node: what they load is memory they keep
const heavy = [/\/node_modules\/(@peculiar|reflect-metadata|tsyringe)\//, /\/src\/api\/gen\/machine\//, /\/src\/api\/services\.ts$/, /\/src\/client\/client\.ts$/];

describe('what the apid and trustd roles load', () => {
  for (const name of ['apid', 'trustd']) {
    it(`${name} loads neither an X.509/ASN.1 library nor every service's generated code`, () => {
      const loaded = loadedBy(role(name));
      assert.ok(loaded.some((u) => u.startsWith(role(name))), 'the role itself was seen');
      assert.deepEqual(loaded.filter((u) => heavy.some((re) => re.test(u))), []);
    });
  }
});
