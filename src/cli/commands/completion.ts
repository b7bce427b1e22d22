import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { globalFlags } from '../global-flags.js';
import { printResult, resultFormat, resultOutputFlag } from '../output/format.js';

interface Node {
  /** the words leading to this command, joined by spaces ('' for the root) */
  path: string;
  words: string[];
  flags: string[];
  summaries: [string, string][];
}

/** Flattens the command tree: per command path, the subcommand words (names and aliases) and the flags it takes. */
function flatten(root: Command): Node[] {
  const out: Node[] = [];
  const visit = (cmd: Command, path: string) => {
    const subs = (cmd.subcommands ?? []).filter((c) => !c.hidden);
    const flags = [...globalFlags, ...(cmd.flags ?? [])].filter((f) => !f.hidden).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
    out.push({ path, words: subs.flatMap((c) => [c.name, ...(c.aliases ?? [])]), flags, summaries: subs.map((c) => [c.name, c.summary]) });
    for (const c of subs) for (const name of [c.name, ...(c.aliases ?? [])]) visit(c, path ? `${path} ${name}` : name);
  };
  visit(root, '');
  return out;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A bash completion script: the words typed so far select a table entry of subcommands and flags. */
export function bashCompletion(root: Command, prog = 'bronzectl'): string {
  const fn = `__${prog.replace(/\W/g, '_')}_complete`;
  const nodes = flatten(root);
  const known = nodes
    .filter((n) => n.path !== '')
    .map((n) => `      ${shellQuote(n.path)}) path=${shellQuote(n.path)} ;;`)
    .join('\n');
  const table = nodes.map((n) => `    ${shellQuote(n.path)}) subs=${shellQuote(n.words.join(' '))}; flags=${shellQuote(n.flags.join(' '))} ;;`).join('\n');
  return `# bash completion for ${prog}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w subs="" flags=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${known}
    esac
  done
  case "$path" in
${table}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n "$subs" ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${prog}
`;
}

/** zsh runs the bash script through bashcompinit. */
export function zshCompletion(root: Command, prog = 'bronzectl'): string {
  return `#compdef ${prog}
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(root, prog)}`;
}

/** A fish completion script: subcommands with their summaries after the path of words typed so far, and flags. */
export function fishCompletion(root: Command, prog = 'bronzectl'): string {
  const lines = [`# fish completion for ${prog}`, `complete -c ${prog} -f`];
  for (const n of flatten(root)) {
    const depth = n.path === '' ? 0 : n.path.split(' ').length;
    const cond = n.path === '' ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${n.path.split(' ').at(-1)}; and test (count (commandline -opc)) -eq ${depth + 1}`;
    for (const [name, summary] of n.summaries) lines.push(`complete -c ${prog} -n ${shellQuote(cond)} -a ${shellQuote(name)} -d ${shellQuote(summary)}`);
  }
  for (const f of globalFlags.filter((x) => !x.hidden)) lines.push(`complete -c ${prog} -l ${f.name}${f.short ? ` -s ${f.short}` : ''} -d ${shellQuote(f.description)}${f.kind === 'bool' ? '' : ' -r'}`);
  return `${lines.join('\n')}\n`;
}

export const completionCommand: Command = {
  name: 'completion',
  summary: 'Output shell completion code for the specified shell (bash, fish or zsh)',
  usage: 'SHELL',
  flags: [resultOutputFlag],
  run(ctx) {
    const [shell] = ctx.expectArgs(1);
    const structured = resultFormat(ctx) !== undefined;
    const root = ctx.root;
    if (!root) throw new Error('the command tree is not available');
    const gen = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion }[shell!];
    if (!gen) throw new UsageError(`unsupported shell type "${shell}": bash, fish or zsh`);
    if (structured) printResult(ctx, undefined, { shell: shell!, script: gen(root) });
    else ctx.out(gen(root));
    return 0;
  },
};
