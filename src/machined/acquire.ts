import type { Logger } from 'pino';
import { parsedConfigText } from '../controllers/config/machine-config-cache.js';
import type { State } from '../cosi/state.js';
import { type FetchConfigOptions, loadMetalConfig } from '../platform/config-url.js';
import { NetworkStatusID, type NetworkStatusSpec, NetworkStatusType } from '../resources/network/status.js';

/** Where a machine config can come from, in Talos's order (disk, cmdline-early, platform, cmdline-late). */
export interface ConfigSource {
  name: 'disk' | 'embedded' | 'cmdline-early' | 'platform' | 'cmdline-late';
  /** the config's bytes, or undefined when this source has none; throws when it has one that cannot be read */
  load(signal: AbortSignal): Promise<Buffer | undefined>;
}

export type AcquireResult =
  /** a complete config (it has the v1alpha1 document) */
  | { kind: 'config'; text: string; source: ConfigSource['name'] }
  /** nothing usable: the node waits in maintenance for ApplyConfiguration (`partial` holds what was found, if any) */
  | { kind: 'maintenance'; partial?: { text: string; source: ConfigSource['name'] } };

export class ConfigAcquireError extends Error {
  constructor(
    readonly code: 'BRONZE_ACQUIRE_INVALID' | 'BRONZE_ACQUIRE_SOURCE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigAcquireError';
  }
}

/**
 * Tries the sources in order; the first one with a complete config wins. A config without the v1alpha1 document
 * (e.g. only a SideroLink document) is kept as partial and the search goes on; when nothing complete is found the
 * result is maintenance. A source that fails is reported through `onError` (Talos's ConfigLoadErrorEvent) and
 * skipped; a config that does not load is an error naming its source.
 */
export async function acquireConfig(
  sources: readonly ConfigSource[],
  opts: { signal: AbortSignal; logger?: Logger; onError?: (source: ConfigSource['name'], err: Error) => void },
): Promise<AcquireResult> {
  let partial: { text: string; source: ConfigSource['name'] } | undefined;
  for (const source of sources) {
    let bytes: Buffer | undefined;
    try {
      bytes = await source.load(opts.signal);
    } catch (e) {
      if (opts.signal.aborted) throw e;
      const err = new ConfigAcquireError('BRONZE_ACQUIRE_SOURCE', `loading the config from ${source.name}: ${(e as Error).message}`, { cause: e });
      opts.logger?.warn({ source: source.name, err: err.message }, 'config source failed');
      opts.onError?.(source.name, err);
      continue;
    }
    if (bytes === undefined || bytes.length === 0) continue;
    const text = bytes.toString('utf8');
    let complete: boolean;
    try {
      // parsed through the shared cache: the controllers reading the config once it is stored take this parse
      complete = parsedConfigText(text).v1alpha1 !== undefined;
    } catch (e) {
      const err = new ConfigAcquireError('BRONZE_ACQUIRE_INVALID', `the config from ${source.name} is invalid: ${(e as Error).message}`, { cause: e });
      opts.logger?.warn({ source: source.name, err: err.message }, 'config source gave an invalid config');
      opts.onError?.(source.name, err);
      continue;
    }
    if (complete) {
      opts.logger?.info({ source: source.name }, 'machine config acquired');
      return { kind: 'config', text, source: source.name };
    }
    partial ??= { text, source: source.name };
  }
  return partial ? { kind: 'maintenance', partial } : { kind: 'maintenance' };
}

/** Resolves once the node has an address (NetworkStatus addressReady), as Talos waits before it downloads its config. */
export function addressReady(state: State): (signal: AbortSignal) => Promise<void> {
  return async (signal) => {
    await state.watchFor({ namespace: 'network', type: NetworkStatusType, id: NetworkStatusID }, (r) => (r?.spec as NetworkStatusSpec | undefined)?.addressReady === true, signal);
  };
}

/**
 * The metal platform's source: the `talos.config=` kernel parameter (a URL whose query may ask for `${uuid}`,
 * `${mac}`, `${hostname}`, `${serial}` and `${code}`, downloaded with retries), `none`, or `metal-iso`. A network URL
 * is downloaded once `networkReady` resolves (the links are up and DHCP gave an address): attempts before that only
 * fail and stretch the backoff between the next ones.
 */
export function metalConfigSource(
  param: string | undefined,
  opts: Omit<FetchConfigOptions, 'signal'> & { networkReady?: (signal: AbortSignal) => Promise<void>; logger?: Logger },
): ConfigSource {
  const { networkReady, logger, ...fetchOpts } = opts;
  return {
    name: 'platform',
    load: async (signal) => {
      if (networkReady && param !== undefined && /^https?:/i.test(param)) {
        logger?.info('waiting for a network address before downloading the config');
        await networkReady(signal);
      }
      const t0 = performance.now();
      const r = await loadMetalConfig(param, { ...fetchOpts, signal });
      if (r.kind === 'config') {
        logger?.info({ bytes: r.data.length, ms: Math.round(performance.now() - t0) }, 'downloaded the machine config');
        return r.data;
      }
      if (r.kind === 'metal-iso') throw new ConfigAcquireError('BRONZE_ACQUIRE_SOURCE', 'talos.config=metal-iso: reading config.yaml from the metal-iso volume is not supported yet');
      return undefined;
    },
  };
}
