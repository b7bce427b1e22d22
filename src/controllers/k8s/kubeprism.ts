import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { KubePrismConfigID, type KubePrismConfigSpec, KubePrismConfigType, KubePrismStatusesID, type KubePrismStatusesSpec, KubePrismStatusesType } from '../../resources/k8s/kubeprism.js';
import { K8sNamespace } from '../../resources/namespaces.js';
import { hostPort } from '../../sys/listen.js';
import { type LoadBalancerOptions, TCPLoadBalancer } from './load-balancer.js';

/** An endpoint as the load balancer dials it. */
const upstreamOf = (e: { host: string; port: number }) => hostPort(e.host, e.port);

/**
 * `k8s.KubePrismController`: runs KubePrism, the node's TCP load balancer in front of the API servers, while
 * KubePrismConfig exists (restarted when its address changes, its upstreams replaced in place otherwise), and
 * writes KubePrismStatuses `k8s-loadbalancer`: its address and whether any API server answers.
 */
export class KubePrismController implements Controller {
  readonly name = 'k8s.KubePrismController';
  private lb: TCPLoadBalancer | undefined;
  private listen: { host: string; port: number } | undefined;

  /** `tuning` overrides the probe and dial timings (tests). */
  constructor(private readonly tuning: Pick<LoadBalancerOptions, 'healthIntervalMs' | 'healthTimeoutMs' | 'dialTimeoutMs'> = {}) {}

  inputs(): Input[] {
    return [{ namespace: K8sNamespace, type: KubePrismConfigType, id: KubePrismConfigID, kind: 'weak' }];
  }

  outputs(): Output[] {
    return [{ type: KubePrismStatusesType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    try {
      for await (const _ of r.events()) {
        const cfg = (await r.getOptional<KubePrismConfigSpec>({ namespace: K8sNamespace, type: KubePrismConfigType, id: KubePrismConfigID }))?.spec;
        if (this.lb && (!cfg || cfg.host !== this.listen?.host || cfg.port !== this.listen?.port)) await this.stop(log);
        if (cfg && !this.lb) {
          const lb = new TCPLoadBalancer({ host: cfg.host, port: cfg.port, logger: log, onHealthChange: () => r.queueReconcile(), ...this.tuning });
          try {
            await lb.start();
          } catch (e) {
            throw new Error(`failed to start KubePrism on ${upstreamOf(cfg)}: ${(e as Error).message}`);
          }
          this.lb = lb;
          this.listen = { host: cfg.host, port: cfg.port };
          log.info({ endpoint: lb.endpoint }, 'KubePrism is enabled');
        }
        if (cfg && this.lb) this.lb.setUpstreams(cfg.endpoints.map(upstreamOf));
        r.startTrackingOutputs();
        if (this.lb) {
          const spec: KubePrismStatusesSpec = { host: this.lb.endpoint, healthy: this.lb.healthy() };
          await r.modify<KubePrismStatusesSpec>({ namespace: K8sNamespace, type: KubePrismStatusesType, id: KubePrismStatusesID }, () => spec, (o) => {
            o.spec = spec;
          });
        }
        await r.cleanupOutputs({ namespace: K8sNamespace, type: KubePrismStatusesType });
        r.resetRestartBackoff();
      }
    } finally {
      if (this.lb) await this.stop(log);
    }
  }

  private async stop(log: Logger): Promise<void> {
    await this.lb?.stop();
    this.lb = undefined;
    this.listen = undefined;
    log.info('KubePrism is disabled');
  }
}
