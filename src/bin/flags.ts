/** The roles' flags: `--name value` or `--name=value`. */
export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** A flag the role cannot do without: its absence ends the process with status 2. */
export function required(args: string[], name: string): string {
  const v = flag(args, name);
  if (!v) {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return v;
}
