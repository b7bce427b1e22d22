import type { Condition } from './condition.js';
import type { HealthCheck, HealthSettings } from './health.js';
import type { Runner } from './runner.js';
import type { ServiceState } from './state.js';

/**
 * A system service, as Talos's Service interface: an id, the services it needs up first, a condition (resource
 * based conditions plug in here), pre and post steps, a runner (undefined = the service is skipped), an optional
 * health check and which API operations it allows.
 */
export interface ServiceDefinition {
  id: string;
  /** services that must be up (running and healthy, or finished/skipped) before this one starts */
  dependsOn?: string[];
  condition?: Condition;
  /** runs before the runner is made; failing it fails the start */
  pre?(signal: AbortSignal): Promise<void>;
  /** makes the runner; undefined skips the service ("Service skipped") */
  runner(): Runner | undefined | Promise<Runner | undefined>;
  /** runs after the runner ended, with the state it ended in */
  post?(state: ServiceState): Promise<void>;
  /** `close` runs when a run's health checks end (the service stopped): a check may hold a connection between checks */
  health?: { check: HealthCheck; settings?: Partial<HealthSettings>; close?: () => void };
  /** which ServiceStart/Stop/Restart calls the API may make (Talos: kubelet start/restart, ext-* all) */
  api?: { start?: boolean; stop?: boolean; restart?: boolean };
}
