import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { StateService, WatchRequest, WatchResponse } from '../../api/gen/cosi/state.js';
import { RpcError } from '../../client/errors.js';
import type { CallOptions, DeepPartial, ResponseStream, ServiceClient } from '../../client/rpc.js';
import { CosiError, type CosiErrorCode } from '../errors.js';
import type { DefinitionLookup } from '../registry.js';
import type { Kind, Pointer, Resource } from '../resource.js';
import type { CoreState, ListOptions, NewResourceLike, OwnerOptions, StateEvent, UpdateOptions, Watch, WatchKindOptions, WatchOptions } from '../state.js';
import { DONE, PullWatch, sleep } from '../watch.js';
import { asBuffer, eventFromProto, labelQueriesToProto, resourceFromProto, resourceToProto } from './convert.js';

type Method = 'get' | 'list' | 'create' | 'update' | 'destroy' | 'watch';

/**
 * gRPC errors back as store errors, as COSI's client reads them per method (a failed precondition is a version
 * conflict on update, pending finalizers on destroy, a bad bookmark on watch). Transport errors stay RpcErrors.
 */
function fromRpc(method: Method, e: unknown): never {
  if (!(e instanceof RpcError)) throw e;
  let code: CosiErrorCode | undefined;
  switch (e.grpcCode) {
    case status.NOT_FOUND:
      code = 'BRONZE_COSI_NOT_FOUND';
      break;
    case status.ALREADY_EXISTS:
      code = 'BRONZE_COSI_ALREADY_EXISTS';
      break;
    case status.PERMISSION_DENIED:
      code = /is owned by/.test(e.details) ? 'BRONZE_COSI_OWNER_CONFLICT' : 'BRONZE_COSI_ACCESS_DENIED';
      break;
    case status.FAILED_PRECONDITION:
      code = method === 'watch' ? 'BRONZE_COSI_INVALID_BOOKMARK' : method === 'destroy' ? 'BRONZE_COSI_PENDING_FINALIZERS' : 'BRONZE_COSI_VERSION_CONFLICT';
      break;
    case status.INVALID_ARGUMENT:
      code = method === 'update' && /is not in phase/.test(e.details) ? 'BRONZE_COSI_PHASE_CONFLICT' : 'BRONZE_COSI_INVALID_RESOURCE';
      break;
    case status.UNIMPLEMENTED:
      code = 'BRONZE_COSI_UNSUPPORTED';
      break;
  }
  if (code) throw new CosiError(code, e.details, { cause: e });
  throw e;
}

export interface RemoteStateOptions {
  /** options of every call (e.g. routing or role metadata when going through apid) */
  call?: CallOptions;
  /** the types' codecs (a Registry): specs come from `proto_spec` when their type has `fromProto`, else `yaml_spec` */
  registry?: DefinitionLookup;
  /** a broken watch reconnects after this delay (default 200 ms), doubling up to `retryMaxMs` (default 5 s) */
  retryMs?: number;
  retryMaxMs?: number;
  /** a broken watch gives up (with an errored event) after trying this long (default 15 minutes) */
  retryGiveUpMs?: number;
  logger?: Logger;
}

function kindRequest(kind: Kind, opts: WatchKindOptions, aggregated: boolean): DeepPartial<WatchRequest> {
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
      startFromBookmark: opts.startFromBookmark && asBuffer(opts.startFromBookmark),
    },
  };
}

/**
 * A state served by another process over `cosi.resource.State` (a unix socket, TCP, or through apid). A watch that
 * breaks reconnects and resumes after the last bookmark it saw, so a restart of the server loses no events; a watch
 * that cannot resume ends with an errored event.
 */
export class RemoteState implements CoreState {
  constructor(
    readonly cosi: ServiceClient<typeof StateService>,
    readonly opts: RemoteStateOptions = {},
  ) {}

  async get(ptr: Pointer): Promise<Resource> {
    try {
      const r = await this.cosi.get({ namespace: ptr.namespace, type: ptr.type, id: ptr.id }, this.opts.call);
      return resourceFromProto(r.resource, this.opts.registry);
    } catch (e) {
      return fromRpc('get', e);
    }
  }

  async list(kind: Kind, opts: ListOptions = {}): Promise<Resource[]> {
    const out: Resource[] = [];
    try {
      const req = { ...kind, options: { labelQuery: labelQueriesToProto(opts.labelQuery), idQuery: opts.idQuery } };
      for await (const m of this.cosi.list(req, this.opts.call)) out.push(resourceFromProto(m.resource, this.opts.registry));
    } catch (e) {
      return fromRpc('list', e);
    }
    return out;
  }

  async create(res: Resource | NewResourceLike, opts: OwnerOptions = {}): Promise<Resource> {
    const m = res.metadata;
    const full: Resource = {
      metadata: {
        namespace: m.namespace,
        type: m.type,
        id: m.id,
        version: 0,
        owner: '',
        phase: m.phase ?? 'running',
        created: new Date(0),
        updated: new Date(0),
        finalizers: [...(m.finalizers ?? [])],
        labels: { ...m.labels },
        annotations: { ...m.annotations },
      },
      spec: res.spec,
    };
    try {
      const r = await this.cosi.create({ resource: resourceToProto(full, this.opts.registry?.definition(m.type)), options: { owner: opts.owner ?? '' } }, this.opts.call);
      return resourceFromProto(r.resource, this.opts.registry);
    } catch (e) {
      return fromRpc('create', e);
    }
  }

  async update(res: Resource, opts: UpdateOptions = {}): Promise<Resource> {
    const expected = opts.expectedPhase ?? 'running';
    try {
      const r = await this.cosi.update(
        {
          newResource: resourceToProto(res, this.opts.registry?.definition(res.metadata.type)),
          options: { owner: opts.owner ?? '', expectedPhase: expected === 'any' ? undefined : expected },
        },
        this.opts.call,
      );
      return resourceFromProto(r.resource, this.opts.registry);
    } catch (e) {
      return fromRpc('update', e);
    }
  }

  async destroy(ptr: Pointer, opts: OwnerOptions = {}): Promise<void> {
    try {
      await this.cosi.destroy({ namespace: ptr.namespace, type: ptr.type, id: ptr.id, options: { owner: opts.owner ?? '' } }, this.opts.call);
    } catch (e) {
      fromRpc('destroy', e);
    }
  }

  async watch(ptr: Pointer, opts: WatchOptions = {}, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    const req: DeepPartial<WatchRequest> = { namespace: ptr.namespace, type: ptr.type, id: ptr.id, options: { tailEvents: opts.tailEvents ?? 0, startFromBookmark: opts.startFromBookmark && asBuffer(opts.startFromBookmark) } };
    return eventWatch(await RemoteWatch.open(this, req, signal));
  }

  async watchKind(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): Promise<Watch<StateEvent>> {
    return eventWatch(await RemoteWatch.open(this, kindRequest(kind, opts, false), signal));
  }

  async watchKindAggregated(kind: Kind, opts: WatchKindOptions = {}, signal?: AbortSignal): Promise<Watch<StateEvent[]>> {
    return batchWatch(await RemoteWatch.open(this, kindRequest(kind, opts, true), signal));
  }
}

/**
 * One Watch call and its reconnections. Messages are read as the consumer asks for them, so a slow consumer slows
 * the stream (and the server's watcher falls behind, not its writers).
 */
class RemoteWatch {
  private stream!: ResponseStream<WatchResponse>;
  private messages!: AsyncIterator<WatchResponse>;
  /** the bookmark of the last event received (possibly none), where a reconnection resumes */
  private lastBookmark: Uint8Array | undefined;
  private ended = false;
  private readonly ac = new AbortController();
  private readonly onAbort = () => this.close();

  private constructor(
    private readonly remote: RemoteState,
    private request: DeepPartial<WatchRequest>,
    private readonly signal: AbortSignal | undefined,
  ) {}

  static async open(remote: RemoteState, request: DeepPartial<WatchRequest>, signal?: AbortSignal): Promise<RemoteWatch> {
    const w = new RemoteWatch(remote, { ...request, apiVersion: 1 }, signal);
    signal?.addEventListener('abort', w.onAbort, { once: true });
    try {
      await w.connect();
    } catch (e) {
      w.close();
      if (signal?.aborted) return w;
      return fromRpc('watch', e);
    }
    return w;
  }

  /** Starts the call and waits for the server's empty first message: the watch is in place. */
  private async connect(): Promise<void> {
    this.stream = this.remote.cosi.watch(this.request, { ...this.remote.opts.call, signal: this.ac.signal });
    this.messages = this.stream[Symbol.asyncIterator]();
    const first = await this.messages.next();
    if (first.done && !this.ac.signal.aborted) throw new CosiError('BRONZE_COSI_WATCH_FAILED', 'the server ended the watch before it was set up');
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.ac.abort();
    this.stream?.cancel();
  }

  /** The events of the next message (empty for an empty aggregated message), or undefined when the watch is over. */
  async nextMessage(): Promise<StateEvent[] | undefined> {
    for (;;) {
      if (this.ended) return undefined;
      let failure: unknown;
      try {
        const r = await this.messages.next();
        if (this.ended) return undefined;
        if (!r.done) {
          const evs = r.value.event.map((ev) => eventFromProto(ev, this.remote.opts.registry));
          // as COSI's client: the last event's bookmark, even when it has none
          if (evs.length > 0) this.lastBookmark = evs[evs.length - 1]!.bookmark;
          if (evs.some((ev) => ev.type === 'errored')) this.close();
          return evs;
        }
        failure = new CosiError('BRONZE_COSI_WATCH_FAILED', 'the server ended the watch');
      } catch (e) {
        if (this.ended) return undefined;
        failure = e;
      }
      const last = await this.resume(failure);
      if (last === true) continue;
      const error = last instanceof Error ? last.message : String(last);
      this.close();
      return [{ type: 'errored', error: `namespace "${this.request.namespace}" type "${this.request.type}": ${error}` }];
    }
  }

  /**
   * Reconnects after the last bookmark, with growing delays. Returns true, or the error that ends the watch: no
   * bookmark to resume from, a bookmark the server refuses (it restarted with a new state), or too long a failure.
   */
  private async resume(failure: unknown): Promise<true | unknown> {
    const bookmark = this.lastBookmark;
    if (!bookmark) return failure;
    const o = this.remote.opts;
    let delay = o.retryMs ?? 200;
    const giveUp = Date.now() + (o.retryGiveUpMs ?? 15 * 60_000);
    this.request = { ...this.request, options: { ...this.request.options, bootstrapContents: false, bootstrapBookmark: false, tailEvents: 0, startFromBookmark: asBuffer(bookmark) } };
    let last = failure;
    while (!this.ended && Date.now() < giveUp) {
      o.logger?.warn({ namespace: this.request.namespace, type: this.request.type, err: (last as Error).message, retryInMs: delay }, 'state watch broke, resuming it');
      await sleep(Math.min(delay, Math.max(0, giveUp - Date.now())), this.ac.signal);
      if (this.ended) return last;
      delay = Math.min(delay * 2, o.retryMaxMs ?? 5000);
      this.stream.cancel();
      try {
        await this.connect();
        return true;
      } catch (e) {
        last = e;
        if (e instanceof RpcError && e.grpcCode === status.FAILED_PRECONDITION) return e;
      }
    }
    return last;
  }
}

/** A remote watch read event by event: the events of each message in turn. */
function eventWatch(w: RemoteWatch): Watch<StateEvent> {
  let queue: StateEvent[] = [];
  return new PullWatch(
    async () => {
      while (queue.length === 0) {
        const evs = await w.nextMessage();
        if (!evs) return DONE;
        queue = evs;
      }
      return { done: false, value: queue.shift()! };
    },
    () => {
      queue = [];
      w.close();
    },
  );
}

/** A remote watch read as batches: one per server message that has events. */
function batchWatch(w: RemoteWatch): Watch<StateEvent[]> {
  return new PullWatch(
    async () => {
      for (;;) {
        const evs = await w.nextMessage();
        if (!evs) return DONE;
        if (evs.length > 0) return { done: false, value: evs };
      }
    },
    () => w.close(),
  );
}
