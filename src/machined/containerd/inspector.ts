import { join } from 'node:path';
import { V1Metrics, V2Metrics } from '../../api/gen/containerd/cgroups/metrics.js';
import type { Container as CRIContainer, PodSandbox } from '../../api/gen/containerd/cri/api.js';
import { ContainerState, PodSandboxState } from '../../api/gen/containerd/cri/api.js';
import { Status as TaskStatus } from '../../api/gen/containerd/types/task.js';
import type { Any } from '../../api/gen/google/protobuf/any.js';
import { type ContainerdClient, isNotFound } from './client.js';

/** One container as the Containers, Stats and Restart calls see it (Talos's containers.Container). */
export interface InspectedContainer {
  /** what `containers` shows as ID: the container id, or `<ns>/<pod>` / `<ns>/<pod>:<name>` for Kubernetes' */
  display: string;
  /** containerd's (or the CRI's) id */
  id: string;
  name: string;
  uid: string;
  podName: string;
  image: string;
  pid: number;
  status: string;
  networkNamespace: string;
  isPodSandbox: boolean;
  /** where the container's log is written (Kubernetes' containers; empty for the others) */
  logPath: string;
  /** set for running containers */
  metrics?: { memoryUsage: bigint; cpuUsage: bigint };
}

const toBig = (s: string | number | undefined) => BigInt(s ?? 0);

/** Memory and CPU from a task's cgroup metrics (v1: usage less inactive file cache, ns; v2: usage, usec → ns). */
export function decodeMetrics(data: Any | undefined): { memoryUsage: bigint; cpuUsage: bigint } | undefined {
  if (!data) return undefined;
  if (data.typeUrl.endsWith('io.containerd.cgroups.v1.Metrics')) {
    const m = V1Metrics.decode(data.value);
    const usage = toBig(m.memory?.usage?.usage);
    const inactive = toBig(m.memory?.totalInactiveFile);
    return { memoryUsage: inactive < usage ? usage - inactive : 0n, cpuUsage: toBig(m.cpu?.usage?.total) };
  }
  if (data.typeUrl.endsWith('io.containerd.cgroups.v2.Metrics')) {
    const m = V2Metrics.decode(data.value);
    return { memoryUsage: toBig(m.memory?.usage), cpuUsage: toBig(m.cpu?.usageUsec) * 1000n };
  }
  throw new Error(`unknown metrics type ${JSON.stringify(data.typeUrl)}`);
}

const STATUS = { [TaskStatus.UNKNOWN]: 'UNKNOWN', [TaskStatus.CREATED]: 'CREATED', [TaskStatus.RUNNING]: 'RUNNING', [TaskStatus.STOPPED]: 'STOPPED', [TaskStatus.PAUSED]: 'PAUSED', [TaskStatus.PAUSING]: 'PAUSING' } as Record<number, string>;

/**
 * Containers of one containerd namespace through containerd's own API (driver CONTAINERD): containers without a task
 * are left out; Kubernetes' containers show as `<ns>/<pod>:<container>` (their sandboxes as `<ns>/<pod>`), images
 * by name where containerd has one for the digest.
 */
export async function containerdContainers(c: ContainerdClient, opts: { filter?: string } = {}): Promise<InspectedContainer[]> {
  const [{ images }, { containers }] = await Promise.all([c.call(c.images, c.images.list, { filters: [] }), c.call(c.containers, c.containers.list, { filters: opts.filter ? [opts.filter] : [] })]);
  const imageByDigest = new Map<string, string>();
  for (const img of images) if (!img.name.startsWith('sha256:') && img.target) imageByDigest.set(img.target.digest, img.name);
  const imageByName = new Map(images.map((i) => [i.name, i.target?.digest ?? '']));
  const out: InspectedContainer[] = [];
  const sandboxOf = new Map<InspectedContainer, { dir?: string; id?: string; restartCount: string }>();
  for (const ctr of containers) {
    let process;
    try {
      process = (await c.call(c.tasks, c.tasks.get, { containerId: ctr.id, execId: '' })).process;
    } catch (e) {
      if (isNotFound(e)) continue;
      throw e;
    }
    if (!process) continue;
    const spec = ctr.spec ? (JSON.parse(Buffer.from(ctr.spec.value).toString('utf8')) as { annotations?: Record<string, string>; linux?: { namespaces?: { type: string; path?: string }[] } }) : {};
    const digest = imageByName.get(ctr.image) ?? '';
    const item: InspectedContainer = {
      display: ctr.id,
      id: ctr.id,
      name: ctr.id,
      uid: '',
      podName: ctr.id,
      image: imageByDigest.get(digest) ?? digest ?? ctr.image,
      pid: process.pid,
      status: STATUS[process.status] ?? 'UNKNOWN',
      networkNamespace: '',
      isPodSandbox: spec.annotations?.['io.kubernetes.cri.sandbox-log-directory'] !== undefined,
      logPath: '',
    };
    sandboxOf.set(item, { dir: spec.annotations?.['io.kubernetes.cri.sandbox-log-directory'], id: spec.annotations?.['io.kubernetes.cri.sandbox-id'], restartCount: spec.annotations?.['io.kubernetes.container.restartCount'] ?? '0' });
    if (!item.image) item.image = ctr.image;
    const podName = ctr.labels['io.kubernetes.pod.name'];
    const podNS = ctr.labels['io.kubernetes.pod.namespace'];
    if (podName && podNS) item.display = `${podNS}/${podName}`;
    item.podName = item.display;
    item.uid = ctr.labels['io.kubernetes.pod.uid'] ?? '';
    const netns = spec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
    if (netns) item.networkNamespace = netns.split('/').pop() ?? '';
    if (ctr.labels['io.kubernetes.container.name']) {
      item.name = ctr.labels['io.kubernetes.container.name'];
      item.display = `${item.display}:${item.name}`;
    }
    if (process.status === TaskStatus.RUNNING) {
      const { metrics } = await c.call(c.tasks, c.tasks.metrics, { filters: [`id==${ctr.id}`] });
      item.metrics = decodeMetrics(metrics[0]?.data) ?? { memoryUsage: 0n, cpuUsage: 0n };
    }
    out.push(item);
  }
  // a Kubernetes container logs to <its sandbox's log directory>/<name>/<restart count>.log
  const sandboxDirs = new Map<string, string>();
  for (const [item, sb] of sandboxOf) if (sb.dir) sandboxDirs.set(sb.id ?? item.id, sb.dir);
  for (const [item, sb] of sandboxOf) {
    const dir = sb.dir ?? (sb.id ? sandboxDirs.get(sb.id) : undefined);
    if (dir && item.display.includes(':')) item.logPath = join(dir, item.name, `${sb.restartCount}.log`);
  }
  return out;
}

const CONTAINER_STATE: Record<number, string> = { [ContainerState.CONTAINER_CREATED]: 'CONTAINER_CREATED', [ContainerState.CONTAINER_RUNNING]: 'CONTAINER_RUNNING', [ContainerState.CONTAINER_EXITED]: 'CONTAINER_EXITED', [ContainerState.CONTAINER_UNKNOWN]: 'CONTAINER_UNKNOWN' };

/**
 * Kubernetes' pods and containers through the CRI (driver CRI): each ready sandbox as `<ns>/<pod>`, its containers
 * as `<ns>/<pod>:<name>:<first 12 of the id>`, with the CRI's working-set memory and CPU time.
 */
export async function criContainers(c: ContainerdClient): Promise<InspectedContainer[]> {
  const rt = c.criRuntime;
  const [{ items: sandboxes }, { containers }, { stats }, { images }] = await Promise.all([
    c.call(rt, rt.listPodSandbox, { filter: { id: '', state: { state: PodSandboxState.SANDBOX_READY }, labelSelector: {} } }),
    c.call(rt, rt.listContainers, { filter: undefined }),
    c.call(rt, rt.listContainerStats, { filter: undefined }),
    c.call(c.criImages, c.criImages.listImages, { filter: undefined }),
  ]);
  const imageNames = new Map(images.filter((i) => i.repoTags.length > 0).map((i) => [i.id, i.repoTags[0]]));
  const statsByID = new Map(stats.map((s) => [s.attributes?.id ?? '', s]));
  const out: InspectedContainer[] = [];
  const pods = new Map<string, string>();
  for (const sb of sandboxes as PodSandbox[]) {
    const podName = `${sb.metadata?.namespace}/${sb.metadata?.name}`;
    pods.set(sb.id, podName);
    const status = await c.call(rt, rt.podSandboxStatus, { podSandboxId: sb.id, verbose: true });
    const info = parseInfo(status.info.info);
    const digest = typeof info.image === 'string' ? info.image : '';
    out.push({
      display: podName,
      id: sb.id,
      name: podName,
      uid: sb.metadata?.uid ?? '',
      podName,
      image: imageNames.get(digest) ?? digest,
      pid: typeof info.pid === 'number' ? info.pid : 0,
      status: status.status?.state === PodSandboxState.SANDBOX_READY ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
      networkNamespace: (info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path ?? '').split('/').pop() ?? '',
      isPodSandbox: true,
      logPath: '',
      metrics: { memoryUsage: 0n, cpuUsage: 0n },
    });
  }
  for (const ctr of containers as CRIContainer[]) {
    const podName = pods.get(ctr.podSandboxId);
    if (!podName) continue;
    const status = await c.call(rt, rt.containerStatus, { containerId: ctr.id, verbose: true });
    const info = parseInfo(status.info.info);
    const s = statsByID.get(ctr.id);
    out.push({
      display: `${podName}:${ctr.metadata?.name}:${ctr.id.slice(0, 12)}`,
      id: ctr.id,
      name: ctr.metadata?.name ?? '',
      uid: '',
      podName,
      image: imageNames.get(ctr.imageRef) ?? ctr.imageRef,
      pid: typeof info.pid === 'number' ? info.pid : 0,
      status: CONTAINER_STATE[ctr.state] ?? 'CONTAINER_UNKNOWN',
      networkNamespace: '',
      isPodSandbox: false,
      logPath: status.status?.logPath ?? '',
      metrics: s ? { memoryUsage: toBig(s.memory?.workingSetBytes?.value), cpuUsage: toBig(s.cpu?.usageCoreNanoSeconds?.value) } : undefined,
    });
  }
  return out;
}

type VerboseInfo = { pid?: unknown; image?: unknown; runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
function parseInfo(text: string | undefined): VerboseInfo {
  try {
    return text ? (JSON.parse(text) as VerboseInfo) : {};
  } catch {
    return {};
  }
}

/** Finds a container by what `restart` is given: an id, `<ns>/<pod>` or `<ns>/<pod>:<name>[:<id prefix>]`. */
export function findContainer(list: InspectedContainer[], id: string): InspectedContainer | undefined {
  return list.find((c) => c.display === id || c.id === id) ?? list.find((c) => !c.isPodSandbox && c.display.startsWith(`${id}:`)) ?? list.find((c) => id.split(':').length === 3 && c.display.split(':').slice(0, 2).join(':') === id.split(':').slice(0, 2).join(':') && c.id.startsWith(id.split(':')[2]));
}
