import type { Logger } from 'pino';
import { ServiceInfo } from '../../api/gen/machine/machine.js';
import type { EventStream } from '../events/index.js';
import { abortError, waitForAll, type Condition } from './condition.js';
import { SupervisorError, messageOf } from './errors.js';
import { DEFAULT_HEALTH_SETTINGS, HealthState, ZERO_TIME, healthToProto, runHealthChecks, type HealthStatus } from './health.js';
import type { Runner } from './runner.js';
import type { ServiceDefinition } from './service.js';
import { ServiceState, isDown, stateName } from './state.js';

/** Events kept per service (Talos keeps 64). */
export const MAX_EVENTS = 64;

export interface ServiceEventRecord {
  msg: string;
  state: ServiceState;
  ts: Date;
  health?: HealthStatus;
}

/** A change of one service, as the resource store (Services, ServicePIDs) will want it. */
export interface ServiceUpdate {
  id: string;
  state: ServiceState;
  message: string;
  /** running in Talos's Service resource sense: state Running */
  running: boolean;
  healthy: boolean;
  unknown: boolean;
  pid?: number;
}

export type ServiceListener = (update: ServiceUpdate) => void;

export interface ServiceRunnerContext {
  events?: EventStream;
  logger?: Logger;
  listener?: ServiceListener;
  clock?: () => number;
  /** how often the waiting description is re-checked, ms (Talos: 1 s) */
  conditionCheckInterval?: number;
  /** condition for "service <id> is up" (provided by the supervisor) */
  serviceUp(id: string): Condition;
}

/** The lifecycle of one service: Starting → Waiting → Preparing → Running → Finished/Failed/Skipped. */
export class ServiceRunner {
  readonly id: string;
  readonly definition: ServiceDefinition;
  private state = ServiceState.Initialized;
  private history: ServiceEventRecord[] = [];
  readonly health: HealthState;
  private pid?: number;
  private readonly ctx: ServiceRunnerContext;
  private readonly watchers = new Set<() => void>();
  private stopAc?: AbortController;

  constructor(definition: ServiceDefinition, ctx: ServiceRunnerContext) {
    this.id = definition.id;
    this.definition = definition;
    this.ctx = ctx;
    this.health = new HealthState(ctx.clock);
  }

  getState(): ServiceState {
    return this.state;
  }

  /** Up: running and (no health check or healthy), or finished, or skipped. */
  isUp(): boolean {
    if (this.state === ServiceState.Skipped || this.state === ServiceState.Finished) return true;
    if (this.state !== ServiceState.Running) return false;
    return !this.definition.health || this.health.get().healthy === true;
  }

  isDown(): boolean {
    return isDown(this.state);
  }

  /** Calls `fn` on every state or health change until the returned function is called. */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }

  private now(): Date {
    return new Date((this.ctx.clock ?? Date.now)());
  }

  private record(event: ServiceEventRecord): void {
    this.history.push(event);
    if (this.history.length > MAX_EVENTS) this.history.shift();
    this.ctx.logger?.info({ service: this.id, state: stateName(event.state) }, `service[${this.id}](${stateName(event.state)}): ${event.msg}`);
    const health = event.health ?? { lastMessage: '', lastChange: ZERO_TIME };
    this.ctx.events?.publish('machine.ServiceStateEvent', { service: this.id, action: event.state as number, message: event.msg, health: healthToProto(health) });
    if (this.ctx.listener) {
      const h = this.health.get();
      try {
        this.ctx.listener({ id: this.id, state: this.state, message: event.msg, running: this.state === ServiceState.Running, healthy: h.healthy === true, unknown: h.healthy === undefined, pid: this.pid });
      } catch (e) {
        this.ctx.logger?.error({ service: this.id, err: messageOf(e) }, 'service listener failed');
      }
    }
    this.notify();
  }

  /** Moves to a state with a message (the events history, the event stream and the listener all see it). */
  updateState(state: ServiceState, message: string): void {
    this.state = state;
    this.record({ msg: message, state, ts: this.now(), health: state === ServiceState.Running ? this.health.get() : undefined });
  }

  private onHealthChange(now: HealthStatus): void {
    if (this.state !== ServiceState.Running) return; // not running: suppressed, as in Talos
    const msg = now.healthy ? 'Health check successful' : `Health check failed: ${now.lastMessage}`;
    this.record({ msg, state: this.state, ts: this.now(), health: now });
  }

  /** Events, oldest first (ServiceEvents). */
  events(): ServiceEventRecord[] {
    return this.history.map((e) => ({ ...e }));
  }

  toProto(): ServiceInfo {
    return {
      id: this.id,
      state: stateName(this.state),
      events: { events: this.history.map((e) => ({ msg: e.msg, state: stateName(e.state), ts: e.ts })) },
      health: healthToProto(this.health.get()),
    };
  }

  currentPid(): number | undefined {
    return this.pid;
  }

  /** Asks a running lifecycle to end; `run()` then resolves. */
  shutdown(): void {
    this.stopAc?.abort();
  }

  private async waitFor(condition: Condition, signal: AbortSignal): Promise<void> {
    let description = condition.describe();
    this.updateState(ServiceState.Waiting, `Waiting for ${description}`);
    const interval = setInterval(() => {
      const now = condition.describe();
      if (now !== description && now !== '') {
        description = now;
        this.updateState(ServiceState.Waiting, `Waiting for ${description}`);
      }
    }, this.ctx.conditionCheckInterval ?? 1000);
    try {
      await condition.wait(signal);
    } finally {
      clearInterval(interval);
    }
  }

  /**
   * Runs the whole lifecycle once and settles the final state: Finished on a clean end or a stop, Skipped when the
   * definition yields no runner, Failed with the reason otherwise. Never throws.
   */
  async run(onStarting?: () => void): Promise<void> {
    const ac = new AbortController();
    this.stopAc = ac;
    let outcome: 'finished' | 'skipped' | Error;
    try {
      outcome = await this.lifecycle(ac.signal, onStarting);
    } catch (e) {
      outcome = e instanceof Error ? e : new Error(String(e));
    } finally {
      this.stopAc = undefined;
    }
    if (outcome === 'finished') this.updateState(ServiceState.Finished, 'Service finished successfully');
    else if (outcome === 'skipped') this.updateState(ServiceState.Skipped, 'Service skipped');
    else {
      const msg = outcome.message;
      this.updateState(ServiceState.Failed, msg.charAt(0).toUpperCase() + msg.slice(1));
    }
  }

  private async lifecycle(signal: AbortSignal, onStarting?: () => void): Promise<'finished' | 'skipped'> {
    const def = this.definition;
    this.updateState(ServiceState.Starting, 'Starting service');
    onStarting?.();
    const deps = (def.dependsOn ?? []).map((d) => this.ctx.serviceUp(d));
    const condition = deps.length > 0 || def.condition ? waitForAll(...deps, def.condition) : undefined;
    if (condition) {
      try {
        await this.waitFor(condition, signal);
      } catch (e) {
        if (signal.aborted) return 'finished';
        throw new SupervisorError('BRONZE_SUPERVISOR_CONDITION', `condition failed: ${messageOf(e)}`, { cause: e });
      }
    }
    if (signal.aborted) return 'finished';
    this.updateState(ServiceState.Preparing, 'Running pre state');
    if (def.pre) {
      try {
        await def.pre(signal);
      } catch (e) {
        if (signal.aborted) return 'finished';
        throw new SupervisorError('BRONZE_SUPERVISOR_PRE', `failed to run pre stage: ${messageOf(e)}`, { cause: e });
      }
    }
    this.updateState(ServiceState.Preparing, 'Creating service runner');
    let runner: Runner | undefined;
    try {
      runner = await def.runner();
    } catch (e) {
      throw new SupervisorError('BRONZE_SUPERVISOR_RUNNER', `failed to create runner: ${messageOf(e)}`, { cause: e });
    }
    try {
      if (!runner) return 'skipped';
      if (signal.aborted) return 'finished';
      await this.runRunner(runner, signal);
      return 'finished';
    } finally {
      if (def.post) {
        try {
          await def.post(this.state);
        } catch (e) {
          this.updateState(ServiceState.Failed, `Failed to run post stage: ${messageOf(e)}`);
        }
      }
    }
  }

  private async runRunner(runner: Runner, signal: AbortSignal): Promise<void> {
    const def = this.definition;
    const healthAc = new AbortController();
    let unsubscribe: (() => void) | undefined;
    let healthLoop: Promise<void> | undefined;
    if (def.health) {
      unsubscribe = this.health.subscribe((now) => this.onHealthChange(now));
      healthLoop = runHealthChecks(healthAc.signal, { ...DEFAULT_HEALTH_SETTINGS, ...def.health.settings }, this.health, def.health.check);
    }
    const running = runner.run({
      sink: (state, message) => {
        this.updateState(state, message);
        if (def.health && state !== ServiceState.Running) this.health.update(false, 'service not running');
      },
      pid: (pid) => {
        this.pid = pid;
      },
    });
    const onAbort = () => void runner.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await running;
    } catch (e) {
      if (!signal.aborted) throw new SupervisorError('BRONZE_SUPERVISOR_RUNNER', `failed running service: error running service: ${messageOf(e)}`, { cause: e });
    } finally {
      signal.removeEventListener('abort', onAbort);
      healthAc.abort();
      await healthLoop;
      def.health?.close?.();
      unsubscribe?.();
      this.pid = undefined;
    }
  }

  /** A condition that holds once this service is up. */
  upCondition(): Condition {
    return this.stateCondition(() => this.isUp(), 'up');
  }

  /** A condition that holds once this service is down (failed, finished or skipped). */
  downCondition(): Condition {
    return this.stateCondition(() => this.isDown(), 'down');
  }

  private stateCondition(holds: () => boolean, name: string): Condition {
    return {
      describe: () => `service ${JSON.stringify(this.id)} to be ${JSON.stringify(name)}`,
      wait: (signal) =>
        new Promise<void>((resolve, reject) => {
          if (holds()) return resolve();
          if (signal.aborted) return reject(abortError(signal));
          const onAbort = () => {
            stop();
            reject(abortError(signal));
          };
          const stop = this.watch(() => {
            if (holds()) {
              stop();
              signal.removeEventListener('abort', onAbort);
              resolve();
            }
          });
          signal.addEventListener('abort', onAbort, { once: true });
        }),
    };
  }
}
