import { stringify } from 'yaml';
import { fromBase64PEM } from '../../pki/pem.js';
import { parseCertificate, subjectOrganizations } from '../../pki/cert.js';
import { allRoles } from '../../api/roles.js';
import type { Command } from '../command.js';
import { openTalosconfig, selectedContext } from './config-shared.js';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;
const week = 7 * day;
const month = 30 * day;
const year = 12 * month;

/** go-humanize RelTime: `10 years from now`, `3 days ago`. */
export function relTime(then: Date, now: Date, ago = 'ago', later = 'from now'): string {
  let diff = then.getTime() - now.getTime();
  const label = diff < 0 ? ago : later;
  diff = Math.abs(diff);
  const steps: [number, string, number][] = [
    [second, 'now', 1],
    [2 * second, '1 second %s', 1],
    [minute, '%d seconds %s', second],
    [2 * minute, '1 minute %s', 1],
    [hour, '%d minutes %s', minute],
    [2 * hour, '1 hour %s', 1],
    [day, '%d hours %s', hour],
    [2 * day, '1 day %s', 1],
    [week, '%d days %s', day],
    [2 * week, '1 week %s', 1],
    [month, '%d weeks %s', week],
    [2 * month, '1 month %s', 1],
    [year, '%d months %s', month],
    [18 * month, '1 year %s', 1],
    [2 * year, '2 years %s', 1],
    [37 * year, '%d years %s', year],
  ];
  for (const [limit, fmt, div] of steps) {
    if (diff < limit) {
      if (fmt === 'now') return 'now';
      return fmt.replace('%d', String(Math.floor(diff / div))).replace('%s', label);
    }
  }
  return `a long while ${label}`;
}

export interface TalosconfigInfo {
  context: string;
  nodes: string[];
  endpoints: string[];
  roles: string[];
  certTTL: string;
  certNotAfter: string;
}

export const configInfoCommand: Command = {
  name: 'info',
  summary: 'Show information about the current context',
  flags: [{ name: 'output', short: 'o', kind: 'string', description: 'output format (json|yaml|text). Default text.', default: 'text' }],
  async run(ctx) {
    ctx.expectArgs(0);
    const c = await openTalosconfig(ctx);
    const { context } = selectedContext(ctx, c);
    const info: TalosconfigInfo = { context: c.config.context, nodes: context.nodes ?? [], endpoints: context.endpoints, roles: [], certTTL: '', certNotAfter: '' };
    if (context.crt) {
      const cert = parseCertificate(fromBase64PEM(context.crt, 'crt'), 'client certificate');
      info.roles = [...new Set(subjectOrganizations(cert).filter((o) => (allRoles as readonly string[]).includes(o)))].sort();
      const notAfter = new Date(cert.validTo);
      info.certTTL = relTime(notAfter, new Date());
      info.certNotAfter = notAfter.toISOString().slice(0, 10);
    }
    switch (ctx.string('output') ?? 'text') {
      case 'text': {
        const lines = [
          `Current context:     ${info.context}`,
          `Nodes:               ${info.nodes.length ? info.nodes.join(', ') : 'not defined'}`,
          `Endpoints:           ${info.endpoints.length ? info.endpoints.join(', ') : 'not defined'}`,
        ];
        if (info.roles.length) lines.push(`Roles:               ${info.roles.join(', ')}`);
        if (info.certTTL) lines.push(`Certificate expires: ${info.certTTL} (${info.certNotAfter})`);
        ctx.out(`${lines.join('\n')}\n`);
        return 0;
      }
      case 'json':
        ctx.out(`${JSON.stringify(info, null, 2)}\n`);
        return 0;
      case 'yaml':
        ctx.out(stringify(info, { indent: 4, indentSeq: true }));
        return 0;
      default:
        throw new Error(`unknown output format: ${JSON.stringify(ctx.string('output'))}`);
    }
  },
};
