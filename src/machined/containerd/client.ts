import { type CallOptions, Channel, type Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { ContainersClient } from '../../api/gen/containerd/services/containers.js';
import { ContentClient } from '../../api/gen/containerd/services/content.js';
import { DiffClient } from '../../api/gen/containerd/services/diff.js';
import { ImagesClient } from '../../api/gen/containerd/services/images.js';
import { LeasesClient } from '../../api/gen/containerd/services/leases.js';
import { SnapshotsClient } from '../../api/gen/containerd/services/snapshots.js';
import { TasksClient } from '../../api/gen/containerd/services/tasks.js';
import { VersionClient } from '../../api/gen/containerd/services/version.js';
import { ImageServiceClient, RuntimeServiceClient } from '../../api/gen/containerd/cri/api.js';

/** containerd's namespaces as Talos uses them: its own services, and Kubernetes' (the CRI's). */
export const SystemNamespace = 'system';
export const K8sNamespace = 'k8s.io';

/** A containerd call that failed: the gRPC status code and containerd's message. */
export class ContainerdError extends Error {
  readonly code = 'BRONZE_CONTAINERD_RPC';
  constructor(
    readonly grpcCode: status,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ContainerdError';
  }
}

export const isNotFound = (e: unknown) => e instanceof ContainerdError && e.grpcCode === status.NOT_FOUND;
export const isAlreadyExists = (e: unknown) => e instanceof ContainerdError && e.grpcCode === status.ALREADY_EXISTS;

type Cb<Res> = (err: ServiceError | null, res: Res) => void;
type UnaryFn<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: Cb<Res>) => unknown;

/**
 * A client of one containerd over its unix socket, bound to a containerd namespace (the `containerd-namespace`
 * header every call carries) and optionally a lease (`containerd-lease`). `withNamespace` and `withLease` share the
 * connection; only the root client closes it.
 */
export class ContainerdClient {
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly images: ImagesClient;
  readonly content: ContentClient;
  readonly snapshots: SnapshotsClient;
  readonly diff: DiffClient;
  readonly leases: LeasesClient;
  readonly version: VersionClient;
  readonly criRuntime: RuntimeServiceClient;
  readonly criImages: ImageServiceClient;
  private readonly channel: Channel;
  private readonly root: boolean;

  constructor(
    readonly address: string,
    readonly namespace: string,
    readonly lease?: string,
    parent?: ContainerdClient,
    private readonly timeoutMs = 30_000,
  ) {
    this.root = !parent;
    this.channel = parent ? parent.channel : new Channel(`unix:${address}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
    const opts = { channelOverride: this.channel };
    const make = <T>(C: new (a: string, c: ReturnType<typeof credentials.createInsecure>, o: object) => T) => (parent ? ((parent as unknown as Record<string, T>)[keyOf(C)] as T) : new C(`unix:${address}`, credentials.createInsecure(), opts));
    const keyOf = (C: unknown) => CLIENT_KEYS.get(C)!;
    this.containers = make(ContainersClient);
    this.tasks = make(TasksClient);
    this.images = make(ImagesClient);
    this.content = make(ContentClient);
    this.snapshots = make(SnapshotsClient);
    this.diff = make(DiffClient);
    this.leases = make(LeasesClient);
    this.version = make(VersionClient);
    this.criRuntime = make(RuntimeServiceClient);
    this.criImages = make(ImageServiceClient);
  }

  withNamespace(namespace: string): ContainerdClient {
    return new ContainerdClient(this.address, namespace, this.lease, this, this.timeoutMs);
  }

  withLease(lease: string | undefined): ContainerdClient {
    return new ContainerdClient(this.address, this.namespace, lease, this, this.timeoutMs);
  }

  /** the headers of every call: the namespace, and the lease when there is one */
  metadata(): Metadata {
    const md = new Metadata();
    md.set('containerd-namespace', this.namespace);
    if (this.lease) md.set('containerd-lease', this.lease);
    return md;
  }

  /** Calls a unary method of one of the service clients, with the namespace headers and a deadline. */
  call<Req, Res>(client: Client, method: UnaryFn<Req, Res>, req: Req, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const call = method.call(client, req, this.metadata(), { deadline: Date.now() + (opts.timeoutMs ?? this.timeoutMs) }, (err, res) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(new ContainerdError(err.code, err.details || err.message, { cause: err }));
        else resolve(res);
      }) as { cancel(): void };
      const onAbort = () => call.cancel();
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    if (!this.root) return;
    for (const c of [this.containers, this.tasks, this.images, this.content, this.snapshots, this.diff, this.leases, this.version, this.criRuntime, this.criImages]) c.close();
    this.channel.close();
  }
}

const CLIENT_KEYS = new Map<unknown, string>([
  [ContainersClient, 'containers'],
  [TasksClient, 'tasks'],
  [ImagesClient, 'images'],
  [ContentClient, 'content'],
  [SnapshotsClient, 'snapshots'],
  [DiffClient, 'diff'],
  [LeasesClient, 'leases'],
  [VersionClient, 'version'],
  [RuntimeServiceClient, 'criRuntime'],
  [ImageServiceClient, 'criImages'],
]);
