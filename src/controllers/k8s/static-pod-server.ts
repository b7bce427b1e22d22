import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { stringify as stringifyYAML } from 'yaml';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { StaticPodServerStatusID, type StaticPodServerStatusSpec, StaticPodServerStatusType, type StaticPodSpec, StaticPodType } from '../../resources/k8s/static-pod.js';
import { K8sNamespace } from '../../resources/namespaces.js';

/** Maps with their keys sorted, all the way down (as Go's YAML encoder writes a map). */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]),
  );
}

/** The static pods as the kubelet reads them from a URL: one v1 PodList, in YAML. */
export function podListYAML(pods: Record<string, unknown>[]): string {
  return stringifyYAML({ kind: 'PodList', items: pods.map(sortedKeys), apiVersion: 'v1' });
}

/**
 * `k8s.StaticPodServerController`: serves the StaticPods to the kubelet over HTTP on 127.0.0.1 (a free port), as a
 * PodList at any path, and writes the URL to StaticPodServerStatus `static-pod-server-status` (the kubelet's
 * `staticPodURL`). Until the first list is built it answers 500.
 */
export class StaticPodServerController implements Controller {
  readonly name = 'k8s.StaticPodServerController';
  private list: string | undefined;
  private versions = new Map<string, string>();

  constructor(private readonly host = '127.0.0.1') {}

  inputs(): Input[] {
    return [{ namespace: K8sNamespace, type: StaticPodType, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: StaticPodServerStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, signal: AbortSignal, log: Logger): Promise<void> {
    this.list = undefined;
    this.versions = new Map();
    const server = createServer((req, res) => {
      req.resume();
      const body = this.list;
      if (body === undefined) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const failed = new Promise<never>((_, reject) => server.once('error', (e) => reject(new Error(`static pod server: ${e.message}`))));
    failed.catch(() => undefined);
    try {
      const port = (server.address() as { port: number }).port;
      const spec: StaticPodServerStatusSpec = { url: `http://${this.host}:${port}` };
      await r.modify<StaticPodServerStatusSpec>({ namespace: K8sNamespace, type: StaticPodServerStatusType, id: StaticPodServerStatusID }, () => spec, (o) => {
        o.spec = spec;
      });
      const events = r.events()[Symbol.asyncIterator]();
      signal.addEventListener('abort', () => void events.return?.(), { once: true });
      for (;;) {
        const next = await Promise.race([events.next(), failed]);
        if (next.done || signal.aborted) break;
        const pods = await r.list<StaticPodSpec>({ namespace: K8sNamespace, type: StaticPodType });
        const seen = new Set<string>();
        for (const p of pods) {
          const id = p.metadata.id;
          const version = String(p.metadata.version);
          seen.add(id);
          const old = this.versions.get(id);
          if (old === undefined) log.info({ id }, 'rendered new static pod');
          else if (old !== version) log.info({ id, old_version: old, new_version: version }, 'rendered updated static pod');
          this.versions.set(id, version);
        }
        for (const id of [...this.versions.keys()].filter((k) => !seen.has(k))) {
          log.info({ id }, 'removed static pod');
          this.versions.delete(id);
        }
        this.list = podListYAML(pods.map((p) => p.spec.pod));
        r.resetRestartBackoff();
      }
    } finally {
      await closeServer(server);
    }
  }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
