import { status } from '@grpc/grpc-js';
import type { StateService } from '../../api/gen/cosi/state.js';
import { RpcError } from '../../client/errors.js';
import type { CallOptions, ServiceClient } from '../../client/rpc.js';
import { StateError, type StateErrorCode } from '../errors.js';
import type { Kind, Pointer, Resource } from '../resource.js';
import type { CoreState, ListOptions, NewResourceLike, OwnerOptions, StateEvent, UpdateOptions, WatchKindOptions, WatchOptions } from '../state.js';
import { eventFromProto, labelQueriesToProto, resourceFromProto, resourceToProto } from './convert.js';

/** Maps gRPC codes back to store errors, so callers of a remote state see the same error kinds. */
function fromRpc(e: unknown): never {
  if (e instanceof RpcError) {
    const code: StateErrorCode | undefined = {
      [status.NOT_FOUND]: 'BRONZE_COSI_NOT_FOUND',
      [status.ALREADY_EXISTS]: 'BRONZE_COSI_ALREADY_EXISTS',
      [status.FAILED_PRECONDITION]: /finalizers/.test(e.details) ? 'BRONZE_COSI_PENDING_FINALIZERS' : /bookmark/.test(e.details) ? 'BRONZE_COSI_INVALID_BOOKMARK' : 'BRONZE_COSI_CONFLICT',
      [status.PERMISSION_DENIED]: /owned by/.test(e.details) ? 'BRONZE_COSI_OWNER_CONFLICT' : 'BRONZE_COSI_ACCESS_DENIED',
      [status.INVALID_ARGUMENT]: /phase/.test(e.details) ? 'BRONZE_COSI_PHASE_CONFLICT' : 'BRONZE_COSI_INVALID',
      [status.UNIMPLEMENTED]: 'BRONZE_COSI_UNSUPPORTED',
    }[e.grpcCode as number] as StateErrorCode | undefined;
    if (code) throw new StateError(code, e.details);
  }
  throw e;
}

/** Marks the end of one server message in aggregated streams. */
const END_OF_MESSAGE: StateEvent = Object.freeze({ type: 'noop' as const });

const RETRYABLE = new Set([status.UNAVAILABLE, status.INTERNAL, status.UNKNOWN, status.CANCELLED, status.DEADLINE_EXCEEDED]);

export interface RemoteStateOptions {
  /** per-call options (e.g. routing metadata when going through apid) */
  call?: CallOptions;
  /** delay before a broken watch reconnects (default 200 ms, doubling to 5 s) */
  retryMs?: number;
}

/**
 * A state served by another process (`cosi.resource.State` over a unix socket or through apid). Watches that break
 * reconnect and resume from the last bookmark they saw, so a restart of the server loses no events.
 */
function kindRequest(kind: Kind, opts: WatchKindOptions, aggregated: boolean) {
  return {
    namespace: kind.namespace,
    type: kind.type,
    options: {
      aggregated,
      bootstrapContents: opts.bootstrapContents ?? false,
      bootstrapBookmark: opts.bootstrapBookmark ?? false,
      tailEvents: opts.tailEvents ?? 0,
      labelQuery: labelQueriesToProto(opts.labelQuery),
      idQuery: opts.idQuery,
      startFromBookmark: opts.startFromBookmark ? Buffer.from(opts.startFromBookmark) : undefined,
    },
  };
}

export class RemoteState implements CoreState {
  constructor(
    private readonly cosi: ServiceClient<typeof StateService>,
    private readonly opts: RemoteStateOptions = {},
  ) {}

  async get(ptr: Pointer): Promise<Resource> {
    try {
      const r = await this.cosi.get({ namespace: ptr.namespace, type: ptr.type, id: ptr.id }, this.opts.call);
      return resourceFromProto(r.resource);
    } catch (e) {
      fromRpc(e);
    }
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<Resource[]> {
    const out: Resource[] = [];
    try {
      for await (const m of this.cosi.list({ ...kind, options: { labelQuery: labelQueriesToProto(opts.labelQuery), idQuery: opts.idQuery } }, this.opts.call)) {
        out.push(resourceFromProto(m.resource));
      }
    } catch (e) {
      fromRpc(e);
    }
    return out;
  }

  async create(res: Resource | NewResourceLike, opts: OwnerOptions = {}): Promise<Resource> {
    try {
      const full = { metadata: { version: 0, owner: '', phase: 'running' as const, created: new Date(0), updated: new Date(0), finalizers: [], labels: {}, annotations: {}, ...res.metadata }, spec: res.spec };
      const r = await this.cosi.create({ resource: resourceToProto(full, undefined), options: { owner: opts.owner ?? '' } }, this.opts.call);
      return resourceFromProto(r.resource);
    } catch (e) {
      fromRpc(e);
    }
  }

  async update(res: Resource, opts: UpdateOptions = {}): Promise<Resource> {
    try {
      const expected = opts.expectedPhase ?? 'running';
      const r = await this.cosi.update(
        { newResource: resourceToProto(res, undefined), options: { owner: opts.owner ?? '', expectedPhase: expected === 'any' ? undefined : expected } },
        this.opts.call,
      );
      return resourceFromProto(r.resource);
    } catch (e) {
      fromRpc(e);
    }
  }

  async destroy(ptr: Pointer, opts: OwnerOptions = {}): Promise<void> {
    try {
      await this.cosi.destroy({ ...ptr, options: { owner: opts.owner ?? '' } }, this.opts.call);
    } catch (e) {
      fromRpc(e);
    }
  }

  watch(ptr: Pointer, opts: WatchOptions = {}, signal?: AbortSignal): AsyncIterable<StateEvent> {
    return this.stream({ namespace: ptr.namespace, type: ptr.type, id: ptr.id, options: { tailEvents: opts.tailEvents ?? 0, startFromBookmark: opts.startFromBookmark ? Buffer.from(opts.startFromBookmark) : undefined } }, signal);
  }

  watchKind(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): AsyncIterable<StateEvent> {
    return this.stream(kindRequest(kind, opts, false), signal);
  }

  async *watchKindAggregated(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): AsyncIterable<StateEvent[]> {
    // the server batches when asked; each of its messages becomes one batch
    let batch: StateEvent[] = [];
    for await (const ev of this.stream(kindRequest(kind, opts, true), signal, true)) {
      if (ev !== END_OF_MESSAGE) {
        batch.push(ev);
        continue;
      }
      if (batch.length) yield batch;
      batch = [];
    }
  }

  private async *stream(req: Parameters<ServiceClient<typeof StateService>['watch']>[0] & object, signal?: AbortSignal, markMessages = false): AsyncGenerator<StateEvent> {
    let request = { ...req, apiVersion: 1 };
    let lastBookmark: Uint8Array | undefined;
    let retry = this.opts.retryMs ?? 200;
    while (!signal?.aborted) {
      const s = this.cosi.watch(request, { ...this.opts.call, signal });
      let first = true;
      try {
        for await (const m of s) {
          if (first) {
            // the empty "watch is set up" message
            first = false;
            retry = this.opts.retryMs ?? 200;
            continue;
          }
          for (const ev of m.event) {
            // a watch stopped by its signal delivers nothing more, even what was already received
            if (signal?.aborted) return;
            const e = eventFromProto(ev);
            if (e.bookmark) lastBookmark = e.bookmark;
            yield e;
          }
          if (markMessages) yield END_OF_MESSAGE;
        }
        return;
      } catch (e) {
        if (signal?.aborted) return;
        if (!(e instanceof RpcError) || !RETRYABLE.has(e.grpcCode)) fromRpc(e);
        if (!lastBookmark && !first) {
          // broke before any bookmark: nothing to resume from
          yield { type: 'errored', error: `watch failed: ${(e as Error).message}` };
          return;
        }
        await new Promise((r) => setTimeout(r, retry));
        retry = Math.min(retry * 2, 5000);
        if (lastBookmark) {
          const o = request.options ?? {};
          request = { ...request, options: { ...o, bootstrapContents: false, tailEvents: 0, startFromBookmark: Buffer.from(lastBookmark) } };
        }
      } finally {
        s.cancel();
      }
    }
  }
}
