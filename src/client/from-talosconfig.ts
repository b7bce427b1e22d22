import { Client, type ClientOptions } from './client.js';
import { loadTalosconfig, resolveContext, type TalosconfigContext, talosconfigPath } from './talosconfig.js';
import { decodePEMField } from './tls.js';

export interface LoadClientOptions {
  /** the talosconfig path; default: $TALOSCONFIG, then ~/.talos/config */
  talosconfig?: string;
  /** the context to use; default: the talosconfig's current context */
  context?: string;
  /** endpoints overriding the context's */
  endpoints?: string[];
  /** nodes overriding the context's */
  nodes?: string[];
}

/** Client options from a talosconfig context (its base64 PEMs decoded), with endpoint and node overrides. */
export function clientOptionsFromContext(ctx: TalosconfigContext, overrides: { endpoints?: string[]; nodes?: string[] } = {}): ClientOptions {
  return {
    endpoints: overrides.endpoints?.length ? overrides.endpoints : (ctx.endpoints ?? []),
    nodes: overrides.nodes?.length ? overrides.nodes : (ctx.nodes ?? []),
    tls: {
      ca: ctx.ca ? decodePEMField(ctx.ca, 'ca') : undefined,
      crt: ctx.crt ? decodePEMField(ctx.crt, 'crt') : undefined,
      key: ctx.key ? decodePEMField(ctx.key, 'key') : undefined,
    },
  };
}

/** Opens a client from a talosconfig context, as talosctl does for its commands. */
export async function loadClientFromTalosconfig(opts: LoadClientOptions = {}): Promise<Client> {
  const cfg = await loadTalosconfig(talosconfigPath(opts.talosconfig));
  return new Client(clientOptionsFromContext(resolveContext(cfg, opts.context), opts));
}
