#!/usr/bin/env node
// Shrinks the ICU data built into a Node binary, in place: official Node builds carry every locale's data (about 32 MB,
// 7.5 MB once compressed) in one read-only symbol, icudt<N>_dat. Bronze's daemons format nothing for people of other
// languages, so the package is rewritten with icupkg to keep ICU's tables (properties, normalisation, collation root,
// break iterators, converters, time zones, units, currencies) but only the root and English locales; the rest of the
// symbol is zero-filled and compresses to almost nothing in the squashfs. Other locales fall back to root, as ICU does
// for any locale it lacks. The result is checked by running the image's Node (see check_icu in lib.sh).
//
// usage: icu-slim.mjs <node-binary> <work-dir>       (readelf reads any architecture's ELF files)
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, readSync, rmSync, writeFileSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';

const [binary, work] = process.argv.slice(2);
if (!binary || !work) {
  process.stderr.write('usage: icu-slim.mjs <node-binary> <work-dir>\n');
  process.exit(2);
}
const fail = (msg) => {
  process.stderr.write(`icu-slim: ${msg}\n`);
  process.exit(1);
};

/** Locales kept: ICU's root and English (the language of every message Bronze prints). */
const KEPT_LOCALES = new Set(['root', 'en', 'en_US', 'en_US_POSIX', 'en_001']);
/** A locale's resource bundle (`de.res`, `coll/zh_Hant_TW.res`, `coll/de_.res`), as opposed to a table (`pool.res`). */
const LOCALE_BUNDLE = /^[a-z]{2,3}(_[A-Za-z0-9]*)*\.res$/;

// the symbol: its address and size, then the file offset through the section that holds it
const symbols = execFileSync('readelf', ['-sW', binary], { encoding: 'utf8', maxBuffer: 256 << 20 });
const sym = /^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+\S+\s+\S+\s+(\d+)\s+(icudt(\d+)_dat)$/m.exec(symbols);
if (!sym) fail(`${binary} has no icudt<N>_dat symbol (a Node built without full ICU?)`);
const [, addrHex, sizeText, sectionIndex, symbolName, icuMajor] = sym;
const address = BigInt(`0x${addrHex}`);
const size = Number(sizeText.startsWith('0x') ? BigInt(sizeText) : BigInt(sizeText));
const sections = execFileSync('readelf', ['-SW', binary], { encoding: 'utf8' });
const secRe = new RegExp(`^\\s*\\[\\s*${sectionIndex}\\]\\s+\\S+\\s+\\S+\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+([0-9a-f]+)`, 'm');
const sec = secRe.exec(sections);
if (!sec) fail(`section ${sectionIndex} of ${symbolName} not found in ${binary}`);
const offset = Number(address - BigInt(`0x${sec[1]}`) + BigInt(`0x${sec[2]}`));

const fd = openSync(binary, 'r+');
try {
  const data = Buffer.alloc(size);
  readSync(fd, data, 0, size, offset);
  // an ICU common data package starts with its header: size, magic 0xda27, and the data format "CmnD"
  if (data[2] !== 0xda || data[3] !== 0x27 || data.toString('latin1', 12, 16) !== 'CmnD') {
    fail(`${symbolName} in ${binary} is not an ICU common data package (already slimmed?)`);
  }
  const pkgName = `icudt${icuMajor}l`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const pkg = join(work, `${pkgName}.dat`);
  writeFileSync(pkg, data);
  const items = execFileSync('icupkg', ['-l', pkg], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const drop = items.filter((item) => {
    const base = item.slice(item.lastIndexOf('/') + 1);
    return LOCALE_BUNDLE.test(base) && !KEPT_LOCALES.has(base.slice(0, -'.res'.length));
  });
  if (drop.length === 0) fail(`${symbolName} in ${binary} has no other locale to drop (already slimmed?)`);
  writeFileSync(join(work, 'drop.txt'), `${drop.join('\n')}\n`);
  // icupkg rewrites the package in place and refuses to leave an item whose dependency it removed
  execFileSync('icupkg', ['-r', 'drop.txt', `${pkgName}.dat`], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  const slim = readFileSync(pkg);
  if (slim.length >= size) fail(`the slimmed package (${slim.length} bytes) is not smaller than ${symbolName} (${size})`);
  const out = Buffer.alloc(size);
  slim.copy(out);
  writeSync(fd, out, 0, size, offset);
  const mib = (n) => (n / 2 ** 20).toFixed(1);
  process.stdout.write(`${symbolName}: ${items.length - drop.length} of ${items.length} items kept, ${mib(slim.length)} of ${mib(size)} MiB\n`);
} finally {
  closeSync(fd);
}
