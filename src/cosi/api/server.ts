import { type Metadata, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type {
  CreateRequest,
  CreateResponse,
  DestroyRequest,
  DestroyResponse,
  GetRequest,
  GetResponse,
  ListRequest,
  ListResponse,
  StateServer,
  UpdateRequest,
  UpdateResponse,
  WatchRequest,
  WatchResponse,
} from '../../api/gen/cosi/state.js';
import { ROLE_METADATA_KEY, Role } from '../../api/roles.js';
import { StateError } from '../errors.js';
import { MetaNamespace, NamespaceType, type Registry } from '../registry.js';
import type { Kind, Phase } from '../resource.js';
import type { CoreState, StateEvent } from '../state.js';
import { eventToProto, labelQueriesFromProto, resourceFromProto, resourceToProto } from './convert.js';

export interface StateServiceOptions {
  state: CoreState;
  registry: Registry;
  logger: Logger;
  /**
   * The Talos API policy: writes refused, the type must be registered, the namespace must exist, and sensitive types
   * need the admin role (from `talos-role` metadata). Off for internal sockets that serve a filtered state as is.
   */
  apiPolicy?: boolean;
  /** refuse writes even without the API policy (apid's and trustd's sockets) */
  readOnly?: boolean;
}

interface GrpcError {
  code: status;
  details: string;
}

/** Maps store errors to the gRPC codes COSI's server uses. */
export function toGrpcError(e: unknown): GrpcError {
  if (e instanceof StateError) {
    const code = {
      BRONZE_COSI_NOT_FOUND: status.NOT_FOUND,
      BRONZE_COSI_CONFLICT: status.FAILED_PRECONDITION,
      BRONZE_COSI_ALREADY_EXISTS: status.ALREADY_EXISTS,
      BRONZE_COSI_OWNER_CONFLICT: status.PERMISSION_DENIED,
      BRONZE_COSI_PHASE_CONFLICT: status.INVALID_ARGUMENT,
      BRONZE_COSI_PENDING_FINALIZERS: status.FAILED_PRECONDITION,
      BRONZE_COSI_INVALID_BOOKMARK: status.FAILED_PRECONDITION,
      BRONZE_COSI_UNSUPPORTED: status.UNIMPLEMENTED,
      BRONZE_COSI_READ_ONLY: status.PERMISSION_DENIED,
      BRONZE_COSI_ACCESS_DENIED: status.PERMISSION_DENIED,
      BRONZE_COSI_OUTPUT_NOT_DECLARED: status.PERMISSION_DENIED,
      BRONZE_COSI_INVALID: status.INVALID_ARGUMENT,
    }[e.code];
    return { code, details: e.message };
  }
  return { code: status.INTERNAL, details: (e as Error).message ?? String(e) };
}

class Denied extends Error {}

/** The `cosi.resource.State` service over any state. */
export function stateService(opts: StateServiceOptions): StateServer & UntypedServiceImplementation {
  const { state, registry, logger } = opts;

  const roles = (md: Metadata) => md.get(ROLE_METADATA_KEY).flatMap((v) => String(v).split(','));

  /** The Talos access policy for reads; throws Denied with Talos's messages. */
  const checkRead = async (md: Metadata, kind: Kind) => {
    if (!opts.apiPolicy) return;
    const def = registry.definition(kind.type);
    if (!def) throw new Denied(`resource type "${kind.type}" is not supported`);
    if (def.sensitive && !roles(md).includes(Role.Admin)) throw new Denied('not authorized');
    try {
      await state.get({ namespace: MetaNamespace, type: NamespaceType, id: kind.namespace });
    } catch {
      throw new Denied(`namespace "${kind.namespace}" is not supported`);
    }
  };

  const checkWrite = () => {
    if (opts.apiPolicy || opts.readOnly) throw new Denied('write access is not allowed');
  };

  const fail = (e: unknown): GrpcError => (e instanceof Denied ? { code: status.PERMISSION_DENIED, details: e.message } : toGrpcError(e));

  const unary =
    <Req, Res>(fn: (req: Req, md: Metadata) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, cb: sendUnaryData<Res>) => {
      fn(call.request, call.metadata).then(
        (res) => cb(null, res),
        (e: unknown) => cb(fail(e)),
      );
    };

  return {
    get: unary<GetRequest, GetResponse>(async (req, md) => {
      await checkRead(md, req);
      const r = await state.get({ namespace: req.namespace, type: req.type, id: req.id });
      return { resource: resourceToProto(r, registry.definition(req.type)) };
    }),

    list(call: ServerWritableStream<ListRequest, ListResponse>) {
      const req = call.request;
      void (async () => {
        try {
          await checkRead(call.metadata, req);
          const items = await state.list(req, {
            labelQuery: labelQueriesFromProto(req.options?.labelQuery ?? []),
            idQuery: req.options?.idQuery?.regexp ? { regexp: req.options.idQuery.regexp } : undefined,
          });
          const def = registry.definition(req.type);
          for (const r of items) {
            if (call.cancelled) return;
            if (!call.write({ resource: resourceToProto(r, def) })) await new Promise((ok) => call.once('drain', ok));
          }
          call.end();
        } catch (e) {
          call.emit('error', fail(e));
        }
      })();
    },

    create: unary<CreateRequest, CreateResponse>(async (req) => {
      checkWrite();
      const r = resourceFromProto(req.resource);
      const stored = await state.create(r, { owner: req.options?.owner ?? '' });
      return { resource: resourceToProto(stored, registry.definition(stored.metadata.type)) };
    }),

    update: unary<UpdateRequest, UpdateResponse>(async (req) => {
      checkWrite();
      const r = resourceFromProto(req.newResource);
      const expected = req.options?.expectedPhase;
      const stored = await state.update(r, { owner: req.options?.owner ?? '', expectedPhase: expected === undefined ? 'any' : (expected as Phase) });
      return { resource: resourceToProto(stored, registry.definition(stored.metadata.type)) };
    }),

    destroy: unary<DestroyRequest, DestroyResponse>(async (req) => {
      checkWrite();
      await state.destroy({ namespace: req.namespace, type: req.type, id: req.id }, { owner: req.options?.owner ?? '' });
      return {};
    }),

    watch(call: ServerWritableStream<WatchRequest, WatchResponse>) {
      const req = call.request;
      const ac = new AbortController();
      call.on('cancelled', () => ac.abort());
      call.on('close', () => ac.abort());
      void (async () => {
        try {
          await checkRead(call.metadata, req);
          const o = req.options;
          const kind = { namespace: req.namespace, type: req.type };
          let batches: AsyncIterable<StateEvent[]>;
          const one = (it: AsyncIterable<StateEvent>): AsyncIterable<StateEvent[]> => ({
            [Symbol.asyncIterator]: () => {
              const i = it[Symbol.asyncIterator]();
              return { next: async () => {
                const r = await i.next();
                return r.done ? { done: true as const, value: undefined } : { done: false as const, value: [r.value] };
              } };
            },
          });
          if (req.id !== undefined) {
            if (o?.bootstrapContents || (o?.labelQuery?.length ?? 0) > 0 || o?.idQuery) throw new StateError('BRONZE_COSI_UNSUPPORTED', 'bootstrap contents and queries are not supported for a single resource watch');
            batches = one(state.watch({ ...kind, id: req.id }, { tailEvents: o?.tailEvents, startFromBookmark: o?.startFromBookmark }, ac.signal));
          } else {
            const kindOpts = {
              bootstrapContents: o?.bootstrapContents,
              bootstrapBookmark: o?.bootstrapBookmark,
              tailEvents: o?.tailEvents,
              startFromBookmark: o?.startFromBookmark,
              labelQuery: labelQueriesFromProto(o?.labelQuery ?? []),
              idQuery: o?.idQuery?.regexp ? { regexp: o.idQuery.regexp } : undefined,
            };
            batches = o?.aggregated ? state.watchKindAggregated(kind, kindOpts, ac.signal) : one(state.watchKind(kind, kindOpts, ac.signal));
          }
          const iterator = batches[Symbol.asyncIterator]();
          // clients wait for this empty message: the watch is set up
          call.write({ event: [] });
          const def = registry.definition(req.type);
          const ptr = { ...kind, id: req.id ?? '' };
          let ended = false;
          while (!ended) {
            const next = await iterator.next();
            if (next.done || call.cancelled) break;
            // old clients (api_version 0) know neither bootstrapped nor errored events
            const evs = next.value.filter((ev) => req.apiVersion >= 1 || (ev.type !== 'bootstrapped' && ev.type !== 'errored'));
            ended = next.value.some((ev) => ev.type === 'errored');
            if (evs.length === 0) continue;
            if (!call.write({ event: evs.map((ev) => eventToProto(ev, ptr, def)) })) await new Promise((ok) => call.once('drain', ok));
          }
          call.end();
        } catch (e) {
          if (!call.cancelled) call.emit('error', fail(e));
        } finally {
          ac.abort();
        }
      })().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'watch stream failed'));
    },
  };
}

