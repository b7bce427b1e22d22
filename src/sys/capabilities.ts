import { readFileSync } from 'node:fs';

/** CAP_SYS_RESOURCE: among others, lowering a process's oom_score_adj. */
export const CAP_SYS_RESOURCE = 24;

/** The effective capability set of this process, from the `CapEff` line of /proc/self/status (`status` for tests). */
export function effectiveCapabilities(status = readFileSync('/proc/self/status', 'utf8')): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!m) throw new Error('/proc/self/status has no CapEff line');
  return BigInt(`0x${m[1]}`);
}

/** Whether this process holds capability `cap` (a host without /proc says no). */
export function hasCapability(cap: number, status?: string): boolean {
  try {
    return ((effectiveCapabilities(status) >> BigInt(cap)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * The oom_score_adj a process started by this one can really have: `wanted`, or this process's own when lowering
 * it needs CAP_SYS_RESOURCE and this process lacks it (a node inside a container that withholds it).
 */
export function reachableOOMScoreAdj(wanted: number, opts: { canLower?: boolean; own?: number } = {}): number {
  const canLower = opts.canLower ?? hasCapability(CAP_SYS_RESOURCE);
  if (canLower) return wanted;
  let own = opts.own;
  if (own === undefined) {
    try {
      own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
    } catch {
      own = 0;
    }
  }
  return Math.max(wanted, own);
}
