import { execFile } from 'node:child_process';
import { constants as fsc, openSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { reachableOOMScoreAdj } from '../../sys/capabilities.js';
import type { LogBuffer } from '../logs/index.js';
import { goQuoteList, type Runner, type RunnerHooks } from '../supervisor/runner.js';
import { ServiceState } from '../supervisor/state.js';
import { ContainerdClient, isNotFound } from './client.js';
import { DEFAULT_SNAPSHOTTER, fromDescriptor, unpackImage, withLease } from './images.js';
import { buildSpec, SPEC_TYPE_URL, type SpecOptions } from './spec.js';

const run = promisify(execFile);

export interface ContainerRunnerOptions {
  /** the container id (and the service id) */
  id: string;
  /** containerd's socket */
  address: string;
  namespace: string;
  /** the image (its name in containerd, or a digest) */
  image: string | (() => string);
  /** what the spec needs besides the id, namespace and image config */
  spec: Omit<SpecOptions, 'id' | 'namespace' | 'image'>;
  /** containerd labels of the container (Kubernetes' pod and container names, for one) */
  labels?: Record<string, string>;
  /** where the container's output FIFO is made */
  fifoDir: string;
  /** where stdout and stderr go */
  log?: LogBuffer;
  /** ms between SIGTERM and SIGKILL on stop (default 10 000) */
  gracefulShutdownTimeout?: number;
  logger?: Logger;
}

/** The signals containerd takes by number. */
const SIGTERM = 15;
const SIGKILL = 9;

/**
 * Runs a service as a container through containerd (Talos's containerd runner): on each run any leftover container
 * of the same id is removed, a fresh snapshot of the unpacked image is prepared, the container and its task are
 * created with the spec, the task is started and waited for. Output goes through a FIFO into the service log.
 * Stopping sends SIGTERM, then SIGKILL after the graceful timeout; the task, container and snapshot are removed
 * after every run.
 */
export class ContainerRunner implements Runner {
  private current?: { stop: AbortController; done: Promise<void> };
  constructor(private readonly o: ContainerRunnerOptions) {}

  toString(): string {
    return `Containerd(${this.o.id}, ${goQuoteList(this.o.spec.args ?? [])})`;
  }

  run(hooks: RunnerHooks): Promise<void> {
    const stop = new AbortController();
    const done = this.runOnce(hooks, stop.signal);
    this.current = { stop, done };
    return done.finally(() => {
      if (this.current?.done === done) this.current = undefined;
    });
  }

  async stop(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    cur.stop.abort();
    await cur.done.catch(() => {});
  }

  private async runOnce(hooks: RunnerHooks, stopSignal: AbortSignal): Promise<void> {
    const o = this.o;
    const c = new ContainerdClient(o.address, o.namespace);
    const fifo = join(o.fifoDir, `${o.id}.fifo`);
    let pipe: Socket | undefined;
    try {
      await removeContainer(c, o.id);
      const imageName = typeof o.image === 'function' ? o.image() : o.image;
      const got = await c.call(c.images, c.images.get, { name: imageName }).catch((e: unknown) => {
        throw isNotFound(e) ? new Error(`image ${JSON.stringify(imageName)} is not in containerd's ${o.namespace} namespace`, { cause: e }) : e;
      });
      const target = fromDescriptor(got.image?.target);
      // the container's snapshot is prepared and the container that references it created under a lease: without
      // one, a garbage collection between the two (another client deleting a lease or an image sets one off) takes
      // the snapshot, which nothing references yet, and the task cannot mount its root
      const mounts = await withLease(c, async (lc) => {
        const { chainID, config } = await unpackImage(lc, target);
        // a node without CAP_SYS_RESOURCE cannot give a container a lower oom_score_adj than its own
        const oomScoreAdj = o.spec.oomScoreAdj === undefined ? undefined : reachableOOMScoreAdj(o.spec.oomScoreAdj);
        const spec = buildSpec({ ...o.spec, oomScoreAdj, id: o.id, namespace: o.namespace, image: config });
        const prepared = await lc.call(lc.snapshots, lc.snapshots.prepare, { snapshotter: DEFAULT_SNAPSHOTTER, key: o.id, parent: chainID, labels: {} });
        await lc.call(lc.containers, lc.containers.create, {
          container: {
            id: o.id,
            labels: o.labels ?? {},
            image: imageName,
            runtime: { name: 'io.containerd.runc.v2', options: undefined },
            spec: { typeUrl: SPEC_TYPE_URL, value: Buffer.from(JSON.stringify(spec)) },
            snapshotter: DEFAULT_SNAPSHOTTER,
            snapshotKey: o.id,
            createdAt: undefined,
            updatedAt: undefined,
            extensions: {},
          },
        });
        return prepared.mounts;
      });
      await mkdir(o.fifoDir, { recursive: true });
      rmSync(fifo, { force: true });
      await run('mkfifo', ['-m', '0600', fifo]);
      // read end opened read-write and non-blocking: no wait for the writer, no end-of-file between writers
      pipe = new Socket({ fd: openSync(fifo, fsc.O_RDWR | fsc.O_NONBLOCK), readable: true, writable: false });
      pipe.on('data', (d: Buffer) => o.log?.write(d));
      pipe.on('error', () => {});
      await c.call(c.tasks, c.tasks.create, { containerId: o.id, rootfs: mounts, stdin: '', stdout: fifo, stderr: fifo, terminal: false, checkpoint: undefined, options: undefined, runtimePath: '' });
      const { pid } = await c.call(c.tasks, c.tasks.start, { containerId: o.id, execId: '' });
      hooks.pid?.(pid);
      hooks.sink(ServiceState.Running, `Started task ${o.id} (PID ${pid}) for container ${o.id}`);
      const waited = c.call(c.tasks, c.tasks.wait, { containerId: o.id, execId: '' }, { timeoutMs: 2 ** 31 - 1 });
      const stopped = new Promise<'stop'>((resolve) => (stopSignal.aborted ? resolve('stop') : stopSignal.addEventListener('abort', () => resolve('stop'), { once: true })));
      const first = await Promise.race([waited, stopped]);
      if (first === 'stop') {
        hooks.sink(ServiceState.Stopping, `Sending SIGTERM to task ${o.id} (PID ${pid}, container ${o.id})`);
        await c.call(c.tasks, c.tasks.kill, { containerId: o.id, execId: '', signal: SIGTERM, all: false }).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), o.gracefulShutdownTimeout ?? 10_000)));
        const graceful = await Promise.race([waited.then(() => 'exited' as const, () => 'exited' as const), timeout]);
        clearTimeout(timer);
        if (graceful === 'timeout') {
          hooks.sink(ServiceState.Stopping, `Sending SIGKILL to task ${o.id} (PID ${pid}, container ${o.id})`);
          await c.call(c.tasks, c.tasks.kill, { containerId: o.id, execId: '', signal: SIGKILL, all: true }).catch(() => undefined);
        }
        await waited.catch(() => undefined);
        return;
      }
      if (first.exitStatus !== 0) throw new Error(`task ${JSON.stringify(o.id)} failed: exit code ${first.exitStatus}`);
    } finally {
      hooks.pid?.(undefined);
      await removeContainer(c, o.id).catch((e: unknown) => o.logger?.warn({ container: o.id, err: (e as Error).message }, 'removing the container failed'));
      pipe?.destroy();
      rmSync(fifo, { force: true });
      c.close();
    }
  }
}

/** Removes a container, its task (killed first) and its snapshot; whatever does not exist is skipped. */
export async function removeContainer(c: ContainerdClient, id: string): Promise<void> {
  const ignore = (e: unknown) => {
    if (!isNotFound(e)) throw e;
  };
  try {
    const { process: p } = await c.call(c.tasks, c.tasks.get, { containerId: id, execId: '' });
    if (p && p.status !== 3 /* STOPPED */) {
      const waited = c.call(c.tasks, c.tasks.wait, { containerId: id, execId: '' }, { timeoutMs: 15_000 });
      await c.call(c.tasks, c.tasks.kill, { containerId: id, execId: '', signal: SIGKILL, all: true }).catch(ignore);
      await waited.catch(() => undefined);
    }
    await c.call(c.tasks, c.tasks.delete, { containerId: id }).catch(ignore);
  } catch (e) {
    ignore(e);
  }
  let snapshotter = DEFAULT_SNAPSHOTTER;
  let snapshotKey = id;
  try {
    const { container } = await c.call(c.containers, c.containers.get, { id });
    snapshotter = container?.snapshotter || snapshotter;
    snapshotKey = container?.snapshotKey || snapshotKey;
    await c.call(c.containers, c.containers.delete, { id }).catch(ignore);
  } catch (e) {
    ignore(e);
  }
  await c.call(c.snapshots, c.snapshots.remove, { snapshotter, key: snapshotKey }).catch(ignore);
}
