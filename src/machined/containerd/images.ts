import { createHash, randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Descriptor } from '../../api/gen/containerd/types/types.js';
import type { Image } from '../../api/gen/containerd/services/images.js';
import { WriteAction, type WriteContentRequest, type WriteContentResponse } from '../../api/gen/containerd/services/content.js';
import { type ContainerdClient, ContainerdError, isAlreadyExists, isNotFound } from './client.js';
import { readTar } from './tar.js';

/** The snapshotter images are unpacked into (containerd's default on Linux). */
export const DEFAULT_SNAPSHOTTER = 'overlayfs';

export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const isIndex = (mt: string) => mt === MediaTypes.ociIndex || mt === MediaTypes.dockerList;
const isManifest = (mt: string) => mt === MediaTypes.ociManifest || mt === MediaTypes.dockerManifest;

export interface OCIDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface OCIManifest {
  mediaType?: string;
  config: OCIDescriptor;
  layers: OCIDescriptor[];
}

interface OCIIndex {
  mediaType?: string;
  manifests: OCIDescriptor[];
}

/** The parts of an image config a container needs. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; User?: string };
  rootfs?: { type: string; diff_ids: string[] };
}

/** Node's architecture as OCI platforms name it. */
export const hostArch = () => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' })[process.arch as string] ?? process.arch;

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A blob that is not where it was expected, or a digest that does not match: bad input, not a server fault. */
export class ImageError extends Error {
  readonly code = 'BRONZE_IMAGE_INVALID';
  readonly grpcCode = status.INVALID_ARGUMENT;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageError';
  }
}

export const toDescriptor = (d: OCIDescriptor): Descriptor => ({ mediaType: d.mediaType, digest: d.digest, size: String(d.size), annotations: d.annotations ?? {} });
export const fromDescriptor = (d: Descriptor | undefined): OCIDescriptor => ({ mediaType: d?.mediaType ?? '', digest: d?.digest ?? '', size: Number(d?.size ?? 0), annotations: d?.annotations });

/**
 * The garbage-collection references containerd follows from a blob: an index keeps its manifests, a manifest its
 * config and layers (labels `containerd.io/gc.ref.content.*`, as containerd's own client sets them).
 */
export function gcLabels(mediaType: string, data: Buffer): Record<string, string> {
  const labels: Record<string, string> = {};
  if (isIndex(mediaType)) {
    (JSON.parse(data.toString('utf8')) as OCIIndex).manifests.forEach((m, i) => (labels[`containerd.io/gc.ref.content.m.${i}`] = m.digest));
  } else if (isManifest(mediaType)) {
    const m = JSON.parse(data.toString('utf8')) as OCIManifest;
    labels['containerd.io/gc.ref.content.config'] = m.config.digest;
    m.layers.forEach((l, i) => (labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest));
  }
  return labels;
}

/** Whether the content store has a blob. */
export async function hasContent(c: ContainerdClient, digest: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await c.call(c.content, c.content.info, { digest }, { signal });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** Reads a whole blob from the content store. */
export async function readContent(c: ContainerdClient, digest: string, signal?: AbortSignal): Promise<Buffer> {
  const stream = c.content.read({ digest, offset: '0', size: '0' }, c.metadata());
  const onAbort = () => stream.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const parts: Buffer[] = [];
  try {
    for await (const m of stream as AsyncIterable<{ data: Buffer }>) parts.push(m.data);
  } catch (e) {
    const err = e as { code?: number; details?: string; message?: string };
    throw new ContainerdError(err.code ?? status.UNKNOWN, err.details || err.message || String(e), { cause: e });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(parts);
}

/**
 * Writes a blob into the content store under its digest (checked by containerd on commit), with labels. A blob the
 * store already has is left as it is.
 */
export async function writeContent(c: ContainerdClient, digest: string, data: Buffer, labels: Record<string, string> = {}, signal?: AbortSignal): Promise<void> {
  if (await hasContent(c, digest, signal)) {
    if (Object.keys(labels).length > 0) {
      await c.call(c.content, c.content.update, { info: { digest, size: '0', labels, createdAt: undefined, updatedAt: undefined }, updateMask: Object.keys(labels).map((k) => `labels.${k}`) }, { signal });
    }
    return;
  }
  const ref = `bronze-${digest.replace(':', '-')}-${randomBytes(4).toString('hex')}`;
  const stream = c.content.write(c.metadata());
  const responses: WriteContentResponse[] = [];
  let waiting: ((v: WriteContentResponse | Error) => void) | undefined;
  let failure: Error | undefined;
  stream.on('data', (r: WriteContentResponse) => (waiting ? (waiting(r), (waiting = undefined)) : responses.push(r)));
  stream.on('error', (e: { code?: number; details?: string; message: string }) => {
    failure = new ContainerdError(e.code ?? status.UNKNOWN, e.details || e.message, { cause: e });
    waiting?.(failure);
    waiting = undefined;
  });
  const onAbort = () => stream.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const next = () =>
    new Promise<WriteContentResponse>((resolve, reject) => {
      const r = responses.shift();
      if (r) return resolve(r);
      if (failure) return reject(failure);
      waiting = (v) => (v instanceof Error ? reject(v) : resolve(v));
    });
  const send = async (req: Partial<WriteContentRequest>) => {
    stream.write({ action: WriteAction.WRITE, ref, total: String(data.length), expected: digest, offset: '0', data: Buffer.alloc(0), labels: {}, ...req });
    return next();
  };
  try {
    const CHUNK = 1 << 20;
    await send({ action: WriteAction.STAT });
    for (let off = 0; off < data.length; off += CHUNK) await send({ offset: String(off), data: data.subarray(off, off + CHUNK) });
    await send({ action: WriteAction.COMMIT, offset: String(data.length), labels });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.end();
  }
}

/** Creates or replaces an image record. */
export async function putImage(c: ContainerdClient, name: string, target: OCIDescriptor, labels: Record<string, string> = {}, signal?: AbortSignal): Promise<Image> {
  const image = { name, labels, target: toDescriptor(target), createdAt: undefined, updatedAt: undefined };
  try {
    return (await c.call(c.images, c.images.create, { image }, { signal })).image!;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    return (await c.call(c.images, c.images.update, { image, updateMask: ['target', 'labels'] }, { signal })).image!;
  }
}

/** Runs `fn` with a client bound to a fresh lease, so that nothing it writes is collected before it is referenced. */
export async function withLease<T>(c: ContainerdClient, fn: (leased: ContainerdClient) => Promise<T>): Promise<T> {
  const id = `bronze-${Date.now()}-${randomBytes(4).toString('hex')}`;
  const expire = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await c.call(c.leases, c.leases.create, { id, labels: { 'containerd.io/gc.expire': expire } });
  try {
    return await fn(c.withLease(id));
  } finally {
    await c.call(c.leases, c.leases.delete, { id, sync: false }).catch(() => undefined);
  }
}

/** Picks the manifest for this host from an index (linux and the host's architecture). */
export function pickManifest(index: OCIIndex, arch = hostArch()): OCIDescriptor | undefined {
  const manifests = index.manifests.filter((m) => isManifest(m.mediaType) || isIndex(m.mediaType));
  return manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? manifests.find((m) => !m.platform) ?? (manifests.length === 1 ? manifests[0] : undefined);
}

/** Follows an image's target down to the manifest for this host, reading blobs with `read`. */
export async function resolveManifest(target: OCIDescriptor, read: (d: OCIDescriptor) => Promise<Buffer>): Promise<{ manifest: OCIManifest; descriptor: OCIDescriptor }> {
  let desc = target;
  for (let depth = 0; depth < 4; depth++) {
    const blob = await read(desc);
    if (isIndex(desc.mediaType)) {
      const picked = pickManifest(JSON.parse(blob.toString('utf8')) as OCIIndex);
      if (!picked) throw new ImageError(`no manifest for linux/${hostArch()} in ${desc.digest}`);
      desc = picked;
      continue;
    }
    if (isManifest(desc.mediaType)) return { manifest: JSON.parse(blob.toString('utf8')) as OCIManifest, descriptor: desc };
    throw new ImageError(`unsupported media type ${JSON.stringify(desc.mediaType)} for ${desc.digest}`);
  }
  throw new ImageError(`image index ${target.digest} nests too deeply`);
}

/** The chain ids of a layer stack (containerd's snapshot names): chain[0] = diff[0], chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function chainIDs(diffIDs: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

/**
 * Unpacks an image for this host into the snapshotter: each layer is applied by containerd's diff service onto a
 * snapshot of the layers below and committed under its chain id; the config blob then references the top snapshot
 * so the garbage collector keeps it. Returns the top chain id and the image config.
 */
export async function unpackImage(c: ContainerdClient, target: OCIDescriptor, opts: { snapshotter?: string; signal?: AbortSignal } = {}): Promise<{ chainID: string; config: ImageConfig; configDigest: string }> {
  const snapshotter = opts.snapshotter ?? DEFAULT_SNAPSHOTTER;
  const signal = opts.signal;
  const { manifest } = await resolveManifest(target, (d) => readContent(c, d.digest, signal));
  const config = JSON.parse((await readContent(c, manifest.config.digest, signal)).toString('utf8')) as ImageConfig;
  const diffIDs = config.rootfs?.diff_ids ?? [];
  if (diffIDs.length !== manifest.layers.length) throw new ImageError(`image config ${manifest.config.digest} lists ${diffIDs.length} layers, its manifest ${manifest.layers.length}`);
  const chain = chainIDs(diffIDs);
  for (let i = 0; i < chain.length; i++) {
    try {
      await c.call(c.snapshots, c.snapshots.stat, { snapshotter, key: chain[i] }, { signal });
      continue; // already unpacked
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const key = `extract-${randomBytes(6).toString('hex')} ${chain[i]}`;
    const parent = i > 0 ? chain[i - 1] : '';
    const { mounts } = await c.call(c.snapshots, c.snapshots.prepare, { snapshotter, key, parent, labels: { 'containerd.io/snapshot.ref': chain[i] } }, { signal });
    try {
      const { applied } = await c.call(c.diff, c.diff.apply, { diff: toDescriptor(manifest.layers[i]), mounts, payloads: {} }, { signal, timeoutMs: 600_000 });
      if (applied?.digest !== diffIDs[i]) throw new ImageError(`layer ${manifest.layers[i].digest} unpacked to ${applied?.digest}, its config says ${diffIDs[i]}`);
      await c.call(c.snapshots, c.snapshots.commit, { snapshotter, name: chain[i], key, labels: { 'containerd.io/snapshot.ref': chain[i] } }, { signal });
    } catch (e) {
      await c.call(c.snapshots, c.snapshots.remove, { snapshotter, key }).catch(() => undefined);
      if (isAlreadyExists(e)) continue;
      throw e;
    }
  }
  const top = chain[chain.length - 1] ?? '';
  if (top) {
    await c.call(
      c.content,
      c.content.update,
      { info: { digest: manifest.config.digest, size: '0', labels: { [`containerd.io/gc.ref.snapshot.${snapshotter}`]: top }, createdAt: undefined, updatedAt: undefined }, updateMask: [`labels.containerd.io/gc.ref.snapshot.${snapshotter}`] },
      { signal },
    );
  }
  return { chainID: top, config, configDigest: manifest.config.digest };
}

/** The size of an image for this host: its manifest, config and layers (as containerd's image Size). */
export async function imageSize(c: ContainerdClient, target: OCIDescriptor, signal?: AbortSignal): Promise<number> {
  const { manifest, descriptor } = await resolveManifest(target, (d) => readContent(c, d.digest, signal));
  return descriptor.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}

/**
 * Imports an OCI image layout archive (a tar with `oci-layout`, `index.json` and `blobs/sha256/...`) into containerd:
 * every blob goes into the content store (digests checked), each image named in the index
 * (`io.containerd.image.name`, or `org.opencontainers.image.ref.name` when it is a full reference) is created and
 * unpacked for this host. Returns the image names in index order.
 */
export async function importOCIArchive(c: ContainerdClient, archive: Buffer, opts: { snapshotter?: string; signal?: AbortSignal } = {}): Promise<string[]> {
  const files = readTar(archive);
  const indexJSON = files.get('index.json');
  if (!indexJSON) {
    throw new ImageError(files.has('manifest.json') ? 'docker image archives are not supported: export the image as an OCI image layout (docker buildx --output type=oci, skopeo copy oci-archive:...)' : 'not an OCI image layout archive: index.json is missing');
  }
  let index: OCIIndex;
  try {
    index = JSON.parse(indexJSON.toString('utf8')) as OCIIndex;
  } catch (e) {
    throw new ImageError(`index.json is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(index.manifests) || index.manifests.length === 0) throw new ImageError('index.json lists no manifests');
  const blob = (digest: string) => {
    const [alg, hex] = digest.split(':');
    const data = files.get(`blobs/${alg}/${hex}`);
    if (!data) throw new ImageError(`blob ${digest} is missing from the archive`);
    if (alg === 'sha256' && sha256(data) !== digest) throw new ImageError(`blob ${digest} does not match its digest`);
    return data;
  };
  return withLease(c, async (lc) => {
    // every blob, with the references between them
    for (const [path, data] of files) {
      const m = /^blobs\/(sha256)\/([0-9a-f]{64})$/.exec(path);
      if (!m) continue;
      const digest = `${m[1]}:${m[2]}`;
      const head = data.subarray(0, 512).toString('utf8');
      let labels: Record<string, string> = {};
      if (head.trimStart().startsWith('{')) {
        try {
          const doc = JSON.parse(data.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
          const mt = doc.mediaType ?? (doc.manifests ? MediaTypes.ociIndex : doc.layers ? MediaTypes.ociManifest : '');
          labels = gcLabels(mt, data);
        } catch {
          // a JSON-looking layer or config: no references
        }
      }
      blob(digest);
      await writeContent(lc, digest, data, labels, opts.signal);
    }
    const names: string[] = [];
    for (const desc of index.manifests) {
      const a = desc.annotations ?? {};
      const refName = a['org.opencontainers.image.ref.name'];
      const name = a['io.containerd.image.name'] ?? (refName && /[/:@]/.test(refName) ? refName : undefined);
      if (!name) throw new ImageError(`manifest ${desc.digest} in index.json has no image name (annotation io.containerd.image.name)`);
      await putImage(lc, name, desc, {}, opts.signal);
      await unpackImage(lc, desc, opts);
      names.push(name);
    }
    return names;
  });
}
