import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parse, stringify } from 'yaml';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { type IdentitySpec, IdentityType, LocalIdentity } from '../../resources/cluster/identity.js';
import { ClusterNamespace } from '../../resources/namespaces.js';
import { writeFileAtomicSync } from '../../sys/atomic-write.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Bytes as a base-62 number. */
export function base62(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out || '0';
}

/**
 * `cluster.NodeIdentityController`: Identity `local`, read from `node-identity.yaml` in STATE, or made (32 random
 * bytes) and stored there the first time, so the node keeps its identity across reboots and loses it on reset.
 */
export class NodeIdentityController implements Controller {
  readonly name = 'cluster.NodeIdentityController';

  constructor(private readonly stateDir: string) {}

  inputs(): Input[] {
    return [];
  }

  outputs(): Output[] {
    return [{ type: IdentityType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    const path = join(this.stateDir, 'node-identity.yaml');
    for await (const _ of r.events()) {
      let nodeId: string | undefined;
      try {
        nodeId = (parse(readFileSync(path, 'utf8')) as { nodeId?: string } | null)?.nodeId;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ path, err: (e as Error).message }, 'node identity unreadable: making a new one');
      }
      if (!nodeId) {
        nodeId = base62(randomBytes(32));
        writeFileAtomicSync(path, stringify({ nodeId }), 0o600);
        log.info({ nodeId }, 'generated new node identity');
      }
      const spec: IdentitySpec = { nodeId };
      await r.modify<IdentitySpec>({ namespace: ClusterNamespace, type: IdentityType, id: LocalIdentity }, () => spec, (o) => {
        o.spec = spec;
      });
    }
  }
}
