import { rmSync } from 'node:fs';
import { type Metadata, Server, ServerCredentials, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  type CreateRequest,
  type CreateResponse,
  type DestroyRequest,
  type DestroyResponse,
  type GetRequest,
  type GetResponse,
  type ListRequest,
  type ListResponse,
  type StateServer,
  StateService,
  type UpdateRequest,
  type UpdateResponse,
  type WatchRequest,
  type WatchResponse,
} from '../../api/gen/cosi/state.js';
import { ROLE_METADATA_KEY, Role } from '../../api/roles.js';
import { CosiError, cosiErrorCodes, isNotFound } from '../errors.js';
import { type Access, FilteredState, isReadOnly } from '../filter.js';
import { type DefinitionLookup, MetaNamespace, NamespaceType, ResourceDefinitionType } from '../registry.js';
import type { Phase } from '../resource.js';
import type { CoreState, StateEvent, Watch } from '../state.js';
import { eventToProto, idQueryFromProto, labelQueriesFromProto, resourceFromProto, resourceToProto } from './convert.js';

/** Who makes a call, as the access policy sees it. */
export interface Caller {
  /** the roles the call carries (apid passes the client certificate's roles in `talos-role` metadata) */
  roles: ReadonlySet<string>;
  metadata: Metadata;
}

/** Decides on one call of the API: returns to allow it, throws (a CosiError with an access code) to refuse it. */
export type StatePolicy = (access: Access, caller: Caller) => void | Promise<void>;

export interface StateServiceOptions {
  /** what is served (for apid's and trustd's sockets, a filtered read-only view) */
  state: CoreState;
  /** the types' codecs (a Registry), to fill `proto_spec` and `yaml_spec` and to read specs of written resources */
  registry: DefinitionLookup;
  logger: Logger;
  /** apply Talos's policy for the API (talosApiPolicy over `state`): what machined's API socket serves */
  apiPolicy?: boolean;
  /** checked before every call, after the API policy; none: every call is allowed (the state's own filter applies) */
  policy?: StatePolicy;
  /** the caller's roles (default: the `talos-role` metadata values, each possibly a comma-separated list) */
  roles?: (metadata: Metadata) => Iterable<string>;
  /** when it aborts, open watch streams end (clients resume them elsewhere or later) and new ones are refused */
  stop?: AbortSignal;
}

const rolesFromMetadata = (md: Metadata): string[] =>
  md
    .get(ROLE_METADATA_KEY)
    .flatMap((v) => String(v).split(','))
    .map((r) => r.trim())
    .filter((r) => r !== '');

const denied = (message: string) => new CosiError('BRONZE_COSI_ACCESS_DENIED', message);

/**
 * Talos's access policy for the State API (talos-facts §3.5): no writes; the type must have a resource definition;
 * sensitive types need the admin role; the namespace must be registered. Definitions and namespaces are looked up
 * in `meta` resources of `state`, so types registered by anyone count.
 */
export function talosApiPolicy(state: CoreState): StatePolicy {
  return async (access, caller) => {
    if (!isReadOnly(access.verb)) throw denied('write access is not allowed');
    let rd;
    try {
      rd = await state.get({ namespace: MetaNamespace, type: ResourceDefinitionType, id: access.type.toLowerCase() });
    } catch (e) {
      if (isNotFound(e)) throw denied(`resource type "${access.type}" is not supported`);
      throw e;
    }
    const sensitivity = (rd.spec as { sensitivity?: string } | undefined)?.sensitivity ?? '';
    if (sensitivity === 'sensitive') {
      if (!caller.roles.has(Role.Admin)) throw denied('not authorized');
    } else if (sensitivity !== '') {
      throw new CosiError('BRONZE_COSI_INVALID_DEFINITION', `unexpected sensitivity "${sensitivity}"`);
    }
    try {
      await state.get({ namespace: MetaNamespace, type: NamespaceType, id: access.namespace });
    } catch (e) {
      if (isNotFound(e)) throw denied(`namespace "${access.namespace}" is not supported`);
      throw e;
    }
  };
}

interface GrpcError {
  code: status;
  details: string;
}

/** Store errors as the gRPC statuses COSI's server answers with; anything else is Internal. */
export function toGrpcError(e: unknown): GrpcError {
  if (e instanceof CosiError) return { code: cosiErrorCodes[e.code].grpc, details: e.message };
  return { code: status.INTERNAL, details: e instanceof Error ? e.message : String(e) };
}

/** The `cosi.resource.State` service over a state. */
export function stateService(opts: StateServiceOptions): StateServer {
  const { registry: definitions, logger } = opts;
  const rolesOf = opts.roles ?? rolesFromMetadata;
  const policies = [...(opts.apiPolicy ? [talosApiPolicy(opts.state)] : []), ...(opts.policy ? [opts.policy] : [])];
  const policy: StatePolicy | undefined =
    policies.length === 0
      ? undefined
      : async (access, caller) => {
          for (const p of policies) await p(access, caller);
        };

  /** The state as this caller may see it. */
  const stateFor = (md: Metadata): CoreState => {
    if (!policy) return opts.state;
    const caller: Caller = { roles: new Set(rolesOf(md)), metadata: md };
    return new FilteredState(opts.state, (access) => policy(access, caller));
  };

  const unary =
    <Req, Res>(name: string, fn: (req: Req, state: CoreState) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      fn(call.request, stateFor(call.metadata)).then(
        (res) => cb(null, res),
        (e: unknown) => {
          const err = toGrpcError(e);
          if (err.code === status.INTERNAL) logger.error({ err: e, method: name }, 'state call failed');
          cb(err);
        },
      );
    };

  /** Ends a server stream with an error, unless the client went away. */
  const fail = (call: ServerWritableStream<unknown, unknown>, name: string, e: unknown) => {
    if (call.cancelled || call.destroyed) return;
    const err = toGrpcError(e);
    if (err.code === status.INTERNAL) logger.error({ err: e, method: name }, 'state stream failed');
    call.emit('error', err);
  };

  /** Writes a stream message, waiting when the client reads slower than we write. */
  const send = async <T>(call: ServerWritableStream<unknown, T>, msg: T): Promise<void> => {
    if (!call.write(msg) && !call.cancelled) {
      await new Promise<void>((resolve) => {
        const done = () => {
          call.off('drain', done);
          call.off('close', done);
          resolve();
        };
        call.on('drain', done);
        call.on('close', done);
      });
    }
  };

  return {
    get: unary<GetRequest, GetResponse>('Get', async (req, state) => {
      const r = await state.get({ namespace: req.namespace, type: req.type, id: req.id });
      return { resource: resourceToProto(r, definitions.definition(req.type)) };
    }),

    list(call: ServerWritableStream<ListRequest, ListResponse>) {
      const req = call.request;
      void (async () => {
        try {
          const items = await stateFor(call.metadata).list(
            { namespace: req.namespace, type: req.type },
            { labelQuery: labelQueriesFromProto(req.options?.labelQuery ?? []), idQuery: idQueryFromProto(req.options?.idQuery) },
          );
          const def = definitions.definition(req.type);
          for (const r of items) {
            if (call.cancelled) return;
            await send(call, { resource: resourceToProto(r, def) });
          }
          call.end();
        } catch (e) {
          fail(call, 'List', e);
        }
      })();
    },

    create: unary<CreateRequest, CreateResponse>('Create', async (req, state) => {
      const r = await state.create(resourceFromProto(req.resource, definitions), { owner: req.options?.owner ?? '' });
      return { resource: resourceToProto(r, definitions.definition(r.metadata.type)) };
    }),

    update: unary<UpdateRequest, UpdateResponse>('Update', async (req, state) => {
      const expected = req.options?.expectedPhase;
      if (expected !== undefined && expected !== 'running' && expected !== 'tearingDown') {
        throw new CosiError('BRONZE_COSI_INVALID_RESOURCE', `unknown phase "${expected}"`);
      }
      // an update without an expected phase accepts any phase, as COSI's server does
      const r = await state.update(resourceFromProto(req.newResource, definitions), { owner: req.options?.owner ?? '', expectedPhase: (expected as Phase | undefined) ?? 'any' });
      return { resource: resourceToProto(r, definitions.definition(r.metadata.type)) };
    }),

    destroy: unary<DestroyRequest, DestroyResponse>('Destroy', async (req, state) => {
      await state.destroy({ namespace: req.namespace, type: req.type, id: req.id }, { owner: req.options?.owner ?? '' });
      return {};
    }),

    watch(call: ServerWritableStream<WatchRequest, WatchResponse>) {
      const req = call.request;
      const ac = new AbortController();
      const stop = () => ac.abort();
      call.on('cancelled', stop);
      call.on('close', stop);
      opts.stop?.addEventListener('abort', stop);
      void (async () => {
        let w: Watch<StateEvent> | Watch<StateEvent[]> | undefined;
        try {
          if (opts.stop?.aborted) throw new CosiError('BRONZE_COSI_SERVER', 'the server is stopping');
          const o = req.options;
          const state = stateFor(call.metadata);
          const kind = { namespace: req.namespace, type: req.type };
          if (req.id !== undefined) {
            if (o?.bootstrapContents) throw new CosiError('BRONZE_COSI_UNSUPPORTED', 'bootstrap contents is not implemented for resource watch');
            if ((o?.labelQuery.length ?? 0) > 0) throw new CosiError('BRONZE_COSI_UNSUPPORTED', 'label query is not implemented for resource watch');
            w = await state.watch({ ...kind, id: req.id }, { tailEvents: o?.tailEvents, startFromBookmark: o?.startFromBookmark }, ac.signal);
          } else {
            const kindOpts = {
              bootstrapContents: o?.bootstrapContents,
              bootstrapBookmark: o?.bootstrapBookmark,
              tailEvents: o?.tailEvents,
              startFromBookmark: o?.startFromBookmark,
              labelQuery: labelQueriesFromProto(o?.labelQuery ?? []),
              idQuery: idQueryFromProto(o?.idQuery),
            };
            w = o?.aggregated ? await state.watchKindAggregated(kind, kindOpts, ac.signal) : await state.watchKind(kind, kindOpts, ac.signal);
          }
          // the watch is in place: clients wait for this empty message before they read events
          await send(call, { event: [] });
          const def = definitions.definition(req.type);
          const watched = { ...kind, id: req.id ?? '' };
          // old clients (api_version 0) know neither bootstrapped nor errored events
          const wanted = (ev: StateEvent) => req.apiVersion >= 1 || (ev.type !== 'bootstrapped' && ev.type !== 'errored');
          for await (const item of w) {
            if (call.cancelled) break;
            const evs = Array.isArray(item) ? item : [item];
            const out = evs.filter(wanted).map((ev) => eventToProto(ev, watched, def));
            if (out.length > 0 || Array.isArray(item)) await send(call, { event: out });
            // an errored event ends the watch (it is the last event), and the stream with it
            if (evs.some((ev) => ev.type === 'errored')) break;
          }
          if (!call.cancelled) call.end();
        } catch (e) {
          fail(call, 'Watch', e);
        } finally {
          w?.close();
          ac.abort();
          call.off('cancelled', stop);
          call.off('close', stop);
          opts.stop?.removeEventListener('abort', stop);
        }
      })();
    },
  };
}

/** Where a State server listens: a unix socket path, or a TCP `host:port` (port 0: any free port). */
export type StateListenAddress = { unix: string } | { tcp: string; credentials?: ServerCredentials };

export interface StateServerOptions extends StateServiceOptions {
  listen: StateListenAddress[];
  /** largest message accepted and sent (default 32 MiB, as the Talos API) */
  maxMessageBytes?: number;
}

export interface RunningStateServer {
  readonly server: Server;
  /** the bound addresses, as clients dial them: `unix:///path` or `host:port` with the port chosen */
  readonly addresses: string[];
  /** stops accepting calls and waits for calls in flight (watches are cancelled) up to `graceMs`, then cuts them */
  close(graceMs?: number): Promise<void>;
}

/** Serves `cosi.resource.State` on unix sockets and TCP ports. A stale socket file is replaced. */
export async function startStateServer(opts: StateServerOptions): Promise<RunningStateServer> {
  const max = opts.maxMessageBytes ?? 32 * 1024 * 1024;
  const server = new Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max });
  const stopping = new AbortController();
  server.addService(StateService, stateService({ ...opts, stop: stopping.signal }));
  const addresses: string[] = [];
  try {
    for (const l of opts.listen) {
      if ('unix' in l) {
        rmSync(l.unix, { force: true });
        await bind(server, `unix:${l.unix}`, ServerCredentials.createInsecure());
        addresses.push(`unix://${l.unix}`);
      } else {
        const port = await bind(server, l.tcp, l.credentials ?? ServerCredentials.createInsecure());
        addresses.push(`${l.tcp.slice(0, l.tcp.lastIndexOf(':'))}:${port}`);
      }
    }
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    server,
    addresses,
    close(graceMs = 5000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
        // watches never end by themselves
        stopping.abort();
      });
      return closing;
    },
  };
}

function bind(server: Server, address: string, creds: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (e, port) => (e ? reject(new CosiError('BRONZE_COSI_SERVER', `cannot listen on ${address}: ${e.message}`, { cause: e })) : resolve(port))),
  );
}
