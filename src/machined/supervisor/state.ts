/** Service states, numbered as Talos's (and as ServiceStateEvent.Action). */
export enum ServiceState {
  Initialized = 0,
  Preparing = 1,
  Waiting = 2,
  Running = 3,
  Stopping = 4,
  Finished = 5,
  Failed = 6,
  Skipped = 7,
  Starting = 8,
}

const NAMES = ['Initialized', 'Preparing', 'Waiting', 'Running', 'Stopping', 'Finished', 'Failed', 'Skipped', 'Starting'];

/** The state's name as ServiceInfo.state and ServiceEvent.state carry it. */
export function stateName(state: ServiceState): string {
  return NAMES[state] ?? 'Unknown';
}

/** Terminal states: the service is not running any more. */
export function isDown(state: ServiceState): boolean {
  return state === ServiceState.Failed || state === ServiceState.Finished || state === ServiceState.Skipped;
}

/** Receives state changes from runners: `Process ... started with PID n` and the like. */
export type EventSink = (state: ServiceState, message: string) => void;
