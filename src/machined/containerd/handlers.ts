import { type sendUnaryData, type ServerReadableStream, type ServerWritableStream, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ContainerDriver, ContainerdNamespace, type ContainerdInstance } from '../../api/gen/common/common.js';
import type {
  ImageServiceImportRequest,
  ImageServiceImportResponse,
  ImageServiceListRequest,
  ImageServiceListResponse,
  ImageServicePullRequest,
  ImageServicePullResponse,
  ImageServiceRemoveRequest,
  ImageServiceServer,
} from '../../api/gen/machine/image.js';
import type { ContainersRequest, ImageListRequest, ImageListResponse, ImagePullRequest, MachineServiceServer, RestartRequest, StatsRequest } from '../../api/gen/machine/machine.js';
import { GrpcStatusError, unaryHandler } from '../api/grpc-error.js';
import { readLogFile } from '../logs/file-follow.js';
import { ContainerdClient, ContainerdError, K8sNamespace, SystemNamespace } from './client.js';
import { fromDescriptor, imageSize, importOCIArchive, ImageError } from './images.js';
import { containerdContainers, criContainers, findContainer, type InspectedContainer } from './inspector.js';
import { PullError, pullImage, type RegistriesConfig } from './registry.js';

export interface ContainerHandlerDeps {
  /** the system containerd's and the CRI containerd's sockets */
  addresses: { system: string; cri: string };
  /** `machine.registries` of the current config */
  registries(): Promise<RegistriesConfig | undefined>;
  logger: Logger;
}

const SIGTERM = 15;

/** A containerd error as the API answers it: unreachable → Unavailable, the rest with containerd's own code. */
function apiError(e: unknown): { code: status; details: string } {
  if (e instanceof GrpcStatusError) return { code: e.grpcCode, details: e.message };
  if (e instanceof ImageError) return { code: status.INVALID_ARGUMENT, details: e.message };
  if (e instanceof PullError) return { code: e.notFound ? status.NOT_FOUND : status.UNKNOWN, details: e.notFound ? `error pulling image: ${e.message}` : e.message };
  if (e instanceof ContainerdError) {
    if (e.grpcCode === status.UNAVAILABLE) return { code: status.UNAVAILABLE, details: `error connecting to containerd: ${e.message}` };
    return { code: e.grpcCode, details: e.message };
  }
  return { code: status.INTERNAL, details: (e as Error)?.message ?? String(e) };
}

const unary = <Req, Res>(log: Logger, fn: (req: Req) => Promise<Res>) => unaryHandler<Req, Res>(log, apiError, (req) => fn(req));

const streaming =
  <Req, Res>(log: Logger, fn: (req: Req, send: (m: Res) => Promise<void>, signal: AbortSignal) => Promise<void>) =>
  (call: ServerWritableStream<Req, Res>) => {
    const ac = new AbortController();
    call.on('cancelled', () => ac.abort());
    const send = async (m: Res) => {
      if (!call.write(m)) await new Promise((ok) => call.once('drain', ok));
    };
    fn(call.request, send, ac.signal).then(
      () => call.end(),
      (e: unknown) => {
        if (ac.signal.aborted) return;
        const err = apiError(e);
        if (err.code === status.INTERNAL) log.error({ method: call.getPath(), err: err.details }, 'stream failed');
        call.emit('error', err);
      },
    );
  };

/** Which containerd a call goes to, as Talos picks it for Containers, Stats and Restart. */
function inspectorFor(d: ContainerHandlerDeps, namespace: string, driver: ContainerDriver): { client: ContainerdClient; list: () => Promise<InspectedContainer[]>; kill: (c: InspectedContainer) => Promise<void> } {
  if (namespace === '') throw new GrpcStatusError(status.INVALID_ARGUMENT, "namespace can't be empty");
  if (driver === ContainerDriver.CRI) {
    if (namespace !== K8sNamespace) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'CRI inspector is supported only for K8s namespace');
    const client = new ContainerdClient(d.addresses.cri, K8sNamespace);
    return {
      client,
      list: () => criContainers(client),
      kill: async (ctr) => {
        const rt = client.criRuntime;
        if (ctr.isPodSandbox) await client.call(rt, rt.stopPodSandbox, { podSandboxId: ctr.id });
        else await client.call(rt, rt.stopContainer, { containerId: ctr.id, timeout: '10' });
      },
    };
  }
  if (driver !== ContainerDriver.CONTAINERD) throw new GrpcStatusError(status.INVALID_ARGUMENT, `unsupported driver "${driver}"`);
  const client = new ContainerdClient(namespace === SystemNamespace ? d.addresses.system : d.addresses.cri, namespace);
  return {
    client,
    list: () => containerdContainers(client),
    kill: async (ctr) => {
      await client.call(client.tasks, client.tasks.kill, { containerId: ctr.id, execId: '', signal: SIGTERM, all: false });
    },
  };
}

async function withInspector<T>(d: ContainerHandlerDeps, namespace: string, driver: ContainerDriver, fn: (i: ReturnType<typeof inspectorFor>) => Promise<T>): Promise<T> {
  const i = inspectorFor(d, namespace, driver);
  try {
    return await fn(i);
  } finally {
    i.client.close();
  }
}

/** containerd's namespace for the API's ContainerdNamespace enum. */
function namespaceOf(ns: ContainerdNamespace): string {
  if (ns === ContainerdNamespace.NS_CRI) return K8sNamespace;
  if (ns === ContainerdNamespace.NS_SYSTEM) return SystemNamespace;
  throw new GrpcStatusError(status.INVALID_ARGUMENT, `invalid namespace ${ContainerdNamespace[ns] ?? ns}`);
}

/** The client for ImageService's ContainerdInstance (driver picks the containerd, namespace the namespace). */
function instanceClient(d: ContainerHandlerDeps, inst: ContainerdInstance | undefined): ContainerdClient {
  const driver = inst?.driver ?? ContainerDriver.CONTAINERD;
  const ns = inst?.namespace ?? ContainerdNamespace.NS_UNKNOWN;
  if (driver !== ContainerDriver.CONTAINERD && driver !== ContainerDriver.CRI) throw new GrpcStatusError(status.INVALID_ARGUMENT, `invalid containerd driver ${driver}`);
  const namespace = namespaceOf(ns);
  if (driver === ContainerDriver.CONTAINERD && ns === ContainerdNamespace.NS_CRI) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'cannot use CRI namespace with containerd driver');
  return new ContainerdClient(driver === ContainerDriver.CRI ? d.addresses.cri : d.addresses.system, namespace);
}

async function* listImages(c: ContainerdClient, signal: AbortSignal) {
  const { images } = await c.call(c.images, c.images.list, { filters: [] }, { signal });
  for (const img of images) {
    const size = await imageSize(c, fromDescriptor(img.target), signal).catch(() => 0);
    yield { img, size };
  }
}

/** Containers, Stats, Restart, ImageList and ImagePull of MachineService. */
export function containerHandlers(d: ContainerHandlerDeps): Partial<MachineServiceServer> {
  const log = d.logger;
  return {
    containers: unary(log, async (req: ContainersRequest) =>
      withInspector(d, req.namespace, req.driver, async (i) => ({
        messages: [
          {
            metadata: undefined,
            containers: (await i.list()).map((c) => ({ namespace: req.namespace, id: c.display, internalId: c.id, uid: c.uid, podId: c.podName, name: c.name, image: c.image, pid: c.pid, status: c.status, networkNamespace: c.networkNamespace })),
          },
        ],
      })),
    ),
    stats: unary(log, async (req: StatsRequest) =>
      withInspector(d, req.namespace, req.driver, async (i) => ({
        messages: [
          {
            metadata: undefined,
            stats: (await i.list()).filter((c) => c.metrics).map((c) => ({ namespace: req.namespace, id: c.display, podId: c.podName, name: c.name, memoryUsage: String(c.metrics!.memoryUsage), cpuUsage: String(c.metrics!.cpuUsage) })),
          },
        ],
      })),
    ),
    restart: unary(log, async (req: RestartRequest) =>
      withInspector(d, req.namespace, req.driver, async (i) => {
        const ctr = findContainer(await i.list(), req.id);
        if (!ctr) throw new GrpcStatusError(status.NOT_FOUND, `container ${JSON.stringify(req.id)} not found`);
        await i.kill(ctr);
        return { messages: [{ metadata: undefined }] };
      }),
    ),
    imageList: streaming<ImageListRequest, ImageListResponse>(log, async (req, send, signal) => {
      const c = new ContainerdClient(d.addresses.cri, namespaceOf(req.namespace));
      try {
        for await (const { img, size } of listImages(c, signal)) await send({ metadata: undefined, name: img.name, digest: img.target?.digest ?? '', size: String(size), createdAt: img.createdAt });
      } finally {
        c.close();
      }
    }),
    imagePull: unary(log, async (req: ImagePullRequest) => {
      const c = new ContainerdClient(d.addresses.cri, namespaceOf(req.namespace));
      try {
        await pullImage(c, req.reference, { registries: await d.registries(), skipIfPresent: true });
        return { messages: [{ metadata: undefined }] };
      } finally {
        c.close();
      }
    }),
  };
}

/**
 * The log of a container outside the system namespace (Kubernetes' containers): the file its runtime writes
 * (the CRI's log path, or `<sandbox log directory>/<name>/<restart count>.log`), from its last `tailLines` lines,
 * followed while `follow` holds.
 */
export async function* containerLogs(d: ContainerHandlerDeps, req: { namespace: string; driver: ContainerDriver; id: string; follow: boolean; tailLines: number }, signal: AbortSignal): AsyncGenerator<Buffer> {
  const ctr = await withInspector(d, req.namespace, req.driver, async (i) => findContainer(await i.list(), req.id));
  if (!ctr) throw new GrpcStatusError(status.NOT_FOUND, `container ${JSON.stringify(req.id)} not found`);
  if (!ctr.logPath) throw new GrpcStatusError(status.NOT_FOUND, `no log available for container ${JSON.stringify(req.id)}`);
  let chunks: AsyncGenerator<Buffer>;
  try {
    chunks = readLogFile(ctr.logPath, { tailLines: req.tailLines, follow: req.follow, signal });
    const first = await chunks.next();
    if (first.done) return;
    yield first.value;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new GrpcStatusError(status.NOT_FOUND, `log of container ${JSON.stringify(req.id)}: ${ctr.logPath} does not exist`);
    throw e;
  }
  yield* chunks;
}

/** Largest image archive Import takes (held in memory while it is imported). */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024 * 1024;

/** `machine.ImageService`: List, Pull, Import (OCI image layout archives) and Remove. */
export function imageService(d: ContainerHandlerDeps): ImageServiceServer {
  const log = d.logger;
  return {
    list: streaming<ImageServiceListRequest, ImageServiceListResponse>(log, async (req, send, signal) => {
      const c = instanceClient(d, req.containerd);
      try {
        for await (const { img, size } of listImages(c, signal)) await send({ name: img.name, digest: img.target?.digest ?? '', size: String(size), createdAt: img.createdAt, labels: img.labels });
      } finally {
        c.close();
      }
    }),
    pull: streaming<ImageServicePullRequest, ImageServicePullResponse>(log, async (req, send, signal) => {
      const c = instanceClient(d, req.containerd);
      const started = Date.now();
      try {
        const progress: Promise<void>[] = [];
        const { name, target } = await pullImage(c, req.imageRef, {
          registries: await d.registries(),
          skipIfPresent: true,
          signal,
          onProgress: (p) => {
            const ms = Date.now() - started;
            progress.push(send({ name: undefined, pullProgress: { layerId: p.digest, progress: { status: 1 /* DOWNLOAD_COMPLETE */, elapsed: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 }, offset: String(p.offset), total: String(p.total) } } }));
          },
        });
        await Promise.all(progress);
        await send({ name: name.includes('@') ? name : `${name.replace(/:[^:/]+$/, '')}@${target.digest}`, pullProgress: undefined });
      } finally {
        c.close();
      }
    }),
    import: (call: ServerReadableStream<ImageServiceImportRequest, ImageServiceImportResponse>, cb: sendUnaryData<ImageServiceImportResponse>) => {
      void (async () => {
        let c: ContainerdClient | undefined;
        try {
          const chunks: Buffer[] = [];
          let total = 0;
          let first = true;
          for await (const msg of call as AsyncIterable<ImageServiceImportRequest>) {
            if (first) {
              if (!msg.containerd) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'containerd instance is required');
              c = instanceClient(d, msg.containerd);
              first = false;
              continue;
            }
            if (!msg.imageChunk) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'no image chunk');
            total += msg.imageChunk.bytes.length;
            if (total > MAX_IMPORT_BYTES) throw new GrpcStatusError(status.RESOURCE_EXHAUSTED, `image archive larger than ${MAX_IMPORT_BYTES} bytes`);
            chunks.push(Buffer.from(msg.imageChunk.bytes));
          }
          if (!c) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'containerd instance is required');
          const names = await importOCIArchive(c, Buffer.concat(chunks)).catch((e: unknown) => {
            if (e instanceof ImageError || e instanceof GrpcStatusError) throw e;
            throw new GrpcStatusError(status.INTERNAL, `failed to import image: ${(e as Error).message}`);
          });
          if (names.length === 0) throw new GrpcStatusError(status.INVALID_ARGUMENT, 'no images imported from archive');
          cb(null, { name: names[0] });
        } catch (e) {
          cb(apiError(e));
        } finally {
          c?.close();
        }
      })();
    },
    remove: unary(log, async (req: ImageServiceRemoveRequest) => {
      const c = instanceClient(d, req.containerd);
      try {
        await c.call(c.images, c.images.delete, { name: req.imageRef, sync: true }).catch((e: unknown) => {
          if (e instanceof ContainerdError && e.grpcCode === status.NOT_FOUND) throw new GrpcStatusError(status.NOT_FOUND, `image ${req.imageRef} not found`);
          throw e;
        });
        return {};
      } finally {
        c.close();
      }
    }),
    verify: unary(log, async () => {
      throw new GrpcStatusError(status.UNIMPLEMENTED, 'Verify is not implemented: image signature verification is not available on this node');
    }),
  };
}
