/**
 * Command-line flags in the style talosctl users know (cobra/pflag): `--name value`, `--name=value`,
 * `-n value`, `-nvalue`, boolean flags without a value (`--force`, `--force=false`), repeatable list
 * flags that also split on commas (`-n a,b -n c`), and `--` to end flag parsing.
 */
export type FlagKind = 'string' | 'bool' | 'int' | 'list' | 'duration';

export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  description: string;
  default?: string | boolean | number | string[];
  /** list flags: do not split values on commas (pflag's StringArray) */
  noSplit?: boolean;
  hidden?: boolean;
}

export type FlagValue = string | boolean | number | string[] | undefined;

export class UsageError extends Error {
  readonly code = 'BRONZE_CLI_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  flags: Map<string, FlagValue>;
  /** names of the flags given on the command line (so defaults can be told apart) */
  given: Set<string>;
  positional: string[];
}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration string (`1h30m`, `500ms`, `10s`) into milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (durationUnits[m[2]!] ?? 0);
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== s.length) throw new UsageError(`invalid duration "${text}" (examples: 30s, 5m, 1h30m)`);
  return total;
}

function convert(spec: FlagSpec, raw: string, previous: FlagValue): FlagValue {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`invalid argument "${raw}" for "--${spec.name}" flag: expected true or false`);
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`invalid argument "${raw}" for "--${spec.name}" flag: expected an integer`);
      return Number(raw);
    }
    case 'duration':
      try {
        return parseDuration(raw);
      } catch {
        throw new UsageError(`invalid argument "${raw}" for "--${spec.name}" flag: expected a duration such as 30s or 5m`);
      }
    case 'list': {
      const items = spec.noSplit ? [raw] : raw.split(',').filter((x) => x !== '');
      return [...((previous as string[] | undefined) ?? []), ...items];
    }
  }
}

export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short) byShort.set(s.short, s);
  }
  const flags = new Map<string, FlagValue>();
  const given = new Set<string>();
  const positional: string[] = [];
  for (const s of specs) if (s.default !== undefined) flags.set(s.name, Array.isArray(s.default) ? [...s.default] : s.default);

  const set = (spec: FlagSpec, raw: string) => {
    // a list flag given on the command line replaces its default
    const prev = given.has(spec.name) ? flags.get(spec.name) : undefined;
    flags.set(spec.name, convert(spec, raw, prev));
    given.add(spec.name);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, arg.slice(eq + 1));
      else if (spec.kind === 'bool') set(spec, 'true');
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        set(spec, argv[++i]!);
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && arg !== '-') {
      // one or more short flags: -f, -fvalue, -f value, -abc (booleans)
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j]!;
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in ${arg}`);
        if (spec.kind === 'bool') {
          if (arg[j + 1] === '=') {
            set(spec, arg.slice(j + 2));
            break;
          }
          set(spec, 'true');
          continue;
        }
        let rest = arg.slice(j + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        if (rest !== '') set(spec, rest);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          set(spec, argv[++i]!);
        }
        break;
      }
      continue;
    }
    positional.push(arg);
  }
  return { flags, given, positional };
}
