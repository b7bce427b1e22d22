import type { Pointer } from '../../cosi/resource.js';
import type { State } from '../../cosi/state.js';
import { NetworkNamespace, RuntimeNamespace } from '../../resources/namespaces.js';
import { NetworkStatusID, type NetworkStatusSpec, NetworkStatusType } from '../../resources/network/status.js';
import { TimeStatusID, TimeStatusType } from '../../resources/time/time-status.js';
import type { Condition } from '../supervisor/index.js';

/** A condition on one resource: holds once `pred` accepts it (it may not exist yet: `pred(undefined)`). */
export function resourceCondition(state: State, ptr: Pointer, description: string, pred: (spec: unknown) => boolean): Condition {
  return {
    describe: () => description,
    async wait(signal: AbortSignal): Promise<void> {
      await state.watchFor(ptr, (r) => pred(r?.spec), signal);
    },
  };
}

/** "time sync": the clock is synchronized (TimeStatus synced). */
export const timeSyncCondition = (state: State): Condition =>
  resourceCondition(state, { namespace: RuntimeNamespace, type: TimeStatusType, id: TimeStatusID }, 'time sync', (s) => (s as { synced?: boolean } | undefined)?.synced === true);

export type NetworkReadiness = keyof NetworkStatusSpec;

/** "network": the network Status says ready in each of these respects. */
export const networkReadyCondition = (state: State, ...need: NetworkReadiness[]): Condition =>
  resourceCondition(state, { namespace: NetworkNamespace, type: NetworkStatusType, id: NetworkStatusID }, 'network', (s) => s !== undefined && need.every((k) => (s as NetworkStatusSpec)[k]));
