import type { Logger } from 'pino';
import type { ServiceInfo } from '../../api/gen/machine/machine.js';
import type { EventStream } from '../events/index.js';
import { abortError, waitForAll, type Condition } from './condition.js';
import { SupervisorError } from './errors.js';
import { delay } from './health.js';
import type { ServiceDefinition } from './service.js';
import { ServiceRunner, type ServiceListener } from './service-runner.js';

export interface SupervisorOptions {
  events?: EventStream;
  logger?: Logger;
  /** hears every state change of every service (the resource store's Services/ServicePIDs writer) */
  listener?: ServiceListener;
  clock?: () => number;
  /** how often a waiting service re-checks its condition's description, ms (default 1000) */
  conditionCheckInterval?: number;
  /** how long a stop waits for dependent services to go down first, ms (default 30 000, as Talos) */
  reverseDependencyTimeout?: number;
}

/** The text a ServiceStart/Stop/Restart response carries: `Service "<id>" started`. */
export function apiResponse(op: 'start' | 'stop' | 'restart', id: string): string {
  const past = { start: 'started', stop: 'stopped', restart: 'restarted' }[op];
  return `Service ${JSON.stringify(id)} ${past}`;
}

/**
 * The node's services (Talos's system.Services): load definitions, start them (each runs its own lifecycle, so a
 * service stuck waiting or failing in a loop never holds up the others), stop them with dependents first, list
 * them, and serve the API's start/stop/restart under Talos's rules.
 */
export class Supervisor {
  private readonly services = new Map<string, ServiceRunner>();
  /** running lifecycles by id */
  private readonly running = new Map<string, Promise<void>>();
  private readonly registered = new Set<() => void>();
  private terminating = false;
  private readonly opts: SupervisorOptions;

  constructor(opts: SupervisorOptions = {}) {
    this.opts = opts;
  }

  /** Adds services (ids already loaded are kept as they are); returns their ids. */
  load(...definitions: ServiceDefinition[]): string[] {
    if (this.terminating) return [];
    const ids: string[] = [];
    for (const def of definitions) {
      ids.push(def.id);
      if (this.services.has(def.id)) continue;
      this.services.set(
        def.id,
        new ServiceRunner(def, {
          events: this.opts.events,
          logger: this.opts.logger,
          listener: this.opts.listener,
          clock: this.opts.clock,
          conditionCheckInterval: this.opts.conditionCheckInterval,
          serviceUp: (id) => this.serviceCondition(id, 'up'),
        }),
      );
    }
    for (const wake of [...this.registered]) wake();
    return ids;
  }

  /**
   * Starts services that are not running. Resolves once each has entered Starting (not when it is up); unknown ids
   * are reported together as `service "<id>" not defined`.
   */
  async start(...ids: string[]): Promise<void> {
    if (this.terminating) return;
    const missing: string[] = [];
    const entered: Promise<void>[] = [];
    for (const id of ids) {
      const svc = this.services.get(id);
      if (!svc) {
        missing.push(`service ${JSON.stringify(id)} not defined`);
        continue;
      }
      if (this.running.has(id)) continue;
      let starting!: () => void;
      entered.push(new Promise<void>((r) => (starting = r)));
      const lifecycle = svc.run(() => starting()).finally(() => {
        if (this.running.get(id) === lifecycle) this.running.delete(id);
        starting(); // in case it ended before entering Starting
      });
      this.running.set(id, lifecycle);
    }
    await Promise.all(entered);
    if (missing.length > 0) throw new SupervisorError('BRONZE_SUPERVISOR_NOT_DEFINED', missing.join('; '));
  }

  /** Loads and starts. */
  async loadAndStart(...definitions: ServiceDefinition[]): Promise<void> {
    await this.start(...this.load(...definitions));
  }

  /** Starts every loaded service. */
  async startAll(): Promise<void> {
    await this.start(...this.services.keys());
  }

  /** Whether the lifecycle of a service is running (any state but a final one after it ended). */
  isRunning(id: string): boolean {
    this.get(id);
    return this.running.has(id);
  }

  get(id: string): ServiceRunner {
    const svc = this.services.get(id);
    if (!svc) throw new SupervisorError('BRONZE_SUPERVISOR_NOT_DEFINED', `service ${JSON.stringify(id)} not defined`);
    return svc;
  }

  /** Services sorted by id. */
  list(): ServiceRunner[] {
    return [...this.services.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** ServiceList's services. */
  listProto(): ServiceInfo[] {
    return this.list().map((s) => s.toProto());
  }

  /** Stops services (unknown ids are ignored) and waits until their lifecycles have ended. */
  async stop(...ids: string[]): Promise<void> {
    if (this.terminating) return;
    await this.stopServices(ids.filter((id) => this.services.has(id)), false);
  }

  /** Stops services and, first, every service that depends on them (transitively). */
  async stopWithReverseDependencies(...ids: string[]): Promise<void> {
    if (this.terminating) return;
    await this.stopServices(ids.filter((id) => this.services.has(id)), true);
  }

  /** Stops everything, dependents before their dependencies; further loads and starts are refused. */
  async shutdown(): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    await this.stopServices([...this.services.keys()], true);
  }

  /** Stops and forgets services. */
  async unload(...ids: string[]): Promise<void> {
    if (this.terminating) return;
    const present = ids.filter((id) => this.services.has(id));
    await this.stopServices(present, false);
    for (const id of present) {
      this.services.delete(id);
      this.running.delete(id);
    }
  }

  private async stopServices(ids: string[], withReverseDeps: boolean): Promise<void> {
    const toStop = new Set(ids);
    if (withReverseDeps) {
      let grew = true;
      while (grew) {
        grew = false;
        for (const svc of this.services.values()) {
          if (toStop.has(svc.id)) continue;
          if ((svc.definition.dependsOn ?? []).some((d) => toStop.has(d))) {
            toStop.add(svc.id);
            grew = true;
          }
        }
      }
    }
    const reverse = new Map<string, string[]>();
    if (withReverseDeps) {
      for (const id of toStop) {
        for (const dep of this.services.get(id)!.definition.dependsOn ?? []) {
          if (!toStop.has(dep)) continue;
          reverse.set(dep, [...(reverse.get(dep) ?? []), id]);
        }
      }
    }
    const timeout = this.opts.reverseDependencyTimeout ?? 30_000;
    await Promise.all(
      [...toStop].map(async (id) => {
        const dependents = (reverse.get(id) ?? []).filter((d) => this.running.has(d));
        if (dependents.length > 0) {
          const ac = new AbortController();
          const gaveUp = await Promise.race([
            Promise.all(dependents.map((d) => this.running.get(d) ?? Promise.resolve())).then(() => false),
            delay(timeout, ac.signal).then(() => true),
          ]);
          ac.abort();
          if (gaveUp) this.opts.logger?.warn({ service: id, dependents }, `gave up on ${dependents.join(', ')} while stopping ${JSON.stringify(id)}`);
        }
        this.services.get(id)?.shutdown();
        await this.running.get(id);
      }),
    );
  }

  /** "service <id> to be up/down", waiting for the service to be registered first if needed. */
  serviceCondition(id: string, event: 'up' | 'down'): Condition {
    let waitingRegister = false;
    return {
      describe: () => (waitingRegister ? `service ${JSON.stringify(id)} to be registered` : `service ${JSON.stringify(id)} to be ${JSON.stringify(event)}`),
      wait: async (signal: AbortSignal) => {
        let svc = this.services.get(id);
        if (!svc) {
          waitingRegister = true;
          await new Promise<void>((resolve, reject) => {
            const check = () => {
              if (this.services.has(id)) {
                this.registered.delete(check);
                signal.removeEventListener('abort', onAbort);
                resolve();
              }
            };
            const onAbort = () => {
              this.registered.delete(check);
              reject(abortError(signal));
            };
            this.registered.add(check);
            signal.addEventListener('abort', onAbort, { once: true });
          });
          waitingRegister = false;
          svc = this.services.get(id)!;
        }
        await (event === 'up' ? svc.upCondition() : svc.downCondition()).wait(signal);
      },
    };
  }

  /** Waits until all the services are up (the boot sequence's wait), or the signal aborts. */
  async waitUp(ids: string[], signal: AbortSignal): Promise<void> {
    await waitForAll(...ids.map((id) => this.serviceCondition(id, 'up'))).wait(signal);
  }

  /** ServiceStart from the API: no-op when running; only services that allow it. */
  async apiStart(id: string): Promise<void> {
    const svc = this.get(id);
    if (this.running.has(id)) return;
    if (!svc.definition.api?.start) throw new SupervisorError('BRONZE_SUPERVISOR_API_NOT_ALLOWED', `service ${JSON.stringify(id)} doesn't support start operation via API`);
    await this.start(id);
  }

  /** ServiceStop from the API: no-op when not running; only services that allow it. */
  async apiStop(id: string): Promise<void> {
    const svc = this.get(id);
    if (!this.running.has(id)) return;
    if (!svc.definition.api?.stop) throw new SupervisorError('BRONZE_SUPERVISOR_API_NOT_ALLOWED', `service ${JSON.stringify(id)} doesn't support stop operation via API`);
    await this.stop(id);
  }

  /** ServiceRestart from the API: a service that is not running is started (under the start rule). */
  async apiRestart(id: string): Promise<void> {
    const svc = this.get(id);
    if (!this.running.has(id)) return this.apiStart(id);
    if (!svc.definition.api?.restart) throw new SupervisorError('BRONZE_SUPERVISOR_API_NOT_ALLOWED', `service ${JSON.stringify(id)} doesn't support restart operation via API`);
    await this.stop(id);
    await this.start(id);
  }
}
