import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { type ResetRequest, ResetRequest_WipeMode } from '../api/gen/machine/machine.js';

/** A Reset the node refuses; Talos answers these with plain errors (gRPC Unknown). */
export class ResetError extends Error {
  readonly grpcCode = status.UNKNOWN;

  constructor(message: string) {
    super(message);
    this.name = 'ResetError';
  }
}

/**
 * The system volumes of a process node, by Talos's labels: what stands in for each partition under the node's state
 * directory. STATE holds the machine config and the node identity, META the META key/values, EPHEMERAL the node's /var.
 */
export const PROCESS_VOLUMES: Readonly<Record<string, readonly string[]>> = {
  STATE: ['config.yaml', 'node-identity.yaml'],
  EPHEMERAL: ['var'],
  META: ['META'],
};

/** Which volume labels a Reset wipes; throws ResetError with Talos's messages for input it refuses. */
export function resetTargets(req: Pick<ResetRequest, 'mode' | 'systemPartitionsToWipe' | 'userDisksToWipe'>, userDisks: readonly string[] = []): string[] {
  if (req.userDisksToWipe.length > 0) {
    if (req.mode === ResetRequest_WipeMode.SYSTEM_DISK) throw new ResetError("reset failed: invalid input, wipe mode SYSTEM_DISK doesn't support UserDisksToWipe parameter");
    for (const d of req.userDisksToWipe) if (!userDisks.includes(d)) throw new ResetError(`reset user disk failed: device ${d} wasn't found`);
  }
  if (req.systemPartitionsToWipe.length > 0) {
    if (req.mode === ResetRequest_WipeMode.USER_DISKS) throw new ResetError("reset failed: invalid input, wipe mode USER_DISKS doesn't support SystemPartitionsToWipe parameter");
    const labels: string[] = [];
    for (const spec of req.systemPartitionsToWipe) {
      if (!(spec.label in PROCESS_VOLUMES)) {
        throw new ResetError(`failed to get volume status with label ${JSON.stringify(spec.label)}: no such volume on this node (volumes: ${Object.keys(PROCESS_VOLUMES).sort().join(', ')})`);
      }
      if (spec.wipe) labels.push(spec.label);
    }
    return labels;
  }
  return req.mode === ResetRequest_WipeMode.USER_DISKS ? [] : Object.keys(PROCESS_VOLUMES);
}

/** Wipes volumes of a process node (their files and directories under the state directory). */
export async function wipeVolumes(stateDir: string, labels: readonly string[]): Promise<string[]> {
  const wiped: string[] = [];
  for (const label of labels) {
    for (const rel of PROCESS_VOLUMES[label] ?? []) {
      const path = join(stateDir, rel);
      await rm(path, { recursive: true, force: true });
      wiped.push(path);
    }
  }
  return wiped;
}
