import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Controller, ControllerAdapter, Input, Output } from '../../cosi/controller/controller.js';
import { RuntimeNamespace } from '../../resources/namespaces.js';
import { KernelParamDefaultSpecType, kernelParamPath, type KernelParamSpecSpec, KernelParamSpecType, type KernelParamStatusSpec, KernelParamStatusType } from '../../resources/runtime/kernel-param.js';

export interface KernelParamSpecOptions {
  /** write the values (metal); the process platform shares the host's kernel and only reports */
  apply: boolean;
  /** where /proc/sys is (tests point it elsewhere) */
  procSys?: string;
}

/**
 * `runtime.KernelParamSpecController`: sets the sysctls of KernelParamSpecs (over KernelParamDefaultSpecs for the
 * same key), remembering each one's value from before so that a key no longer specified gets it back, and reports
 * KernelParamStatus (current, default, or unsupported where the kernel lacks the key and errors are ignored).
 * Without `apply`, the status reports the value the kernel has.
 */
export class KernelParamSpecController implements Controller {
  readonly name = 'runtime.KernelParamSpecController';
  private readonly defaults = new Map<string, string>();
  private readonly set = new Map<string, string>();

  constructor(private readonly opts: KernelParamSpecOptions) {}

  inputs(): Input[] {
    return [
      { namespace: RuntimeNamespace, type: KernelParamSpecType, kind: 'weak' },
      { namespace: RuntimeNamespace, type: KernelParamDefaultSpecType, kind: 'weak' },
    ];
  }

  outputs(): Output[] {
    return [{ type: KernelParamStatusType, kind: 'exclusive' }];
  }

  async run(r: ControllerAdapter, _signal: AbortSignal, log: Logger): Promise<void> {
    const path = (key: string) => join(this.opts.procSys ?? '/proc/sys', kernelParamPath(key));
    const read = async (key: string) => (await readFile(path(key), 'utf8')).trim();
    for await (const _ of r.events()) {
      r.startTrackingOutputs();
      const wanted = new Map<string, KernelParamSpecSpec>();
      for (const d of await r.list<KernelParamSpecSpec>({ namespace: RuntimeNamespace, type: KernelParamDefaultSpecType })) wanted.set(d.metadata.id, d.spec);
      for (const c of await r.list<KernelParamSpecSpec>({ namespace: RuntimeNamespace, type: KernelParamSpecType })) wanted.set(c.metadata.id, c.spec);
      const failures: string[] = [];
      for (const [key, spec] of wanted) {
        const ptr = { namespace: RuntimeNamespace, type: KernelParamStatusType, id: key };
        let status: KernelParamStatusSpec;
        try {
          if (!this.defaults.has(key)) this.defaults.set(key, await read(key));
          if (this.opts.apply && (await read(key)) !== spec.value) {
            await writeFile(path(key), spec.value);
            log.info({ key, value: spec.value }, 'set kernel parameter');
          }
          if (this.opts.apply) this.set.set(key, spec.value);
          status = { current: this.opts.apply ? spec.value : await read(key), default: this.defaults.get(key)!, unsupported: false };
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
            failures.push(`${key}: ${(e as Error).message}`);
            continue;
          }
          if (!spec.ignoreErrors) failures.push(`${key}: the kernel has no such parameter`);
          status = { current: '', default: '', unsupported: true };
        }
        await r.modify<KernelParamStatusSpec>(ptr, () => status, (o) => {
          o.spec = status;
        });
      }
      // keys no longer specified get their old value back
      for (const [key] of this.set) {
        if (wanted.has(key)) continue;
        const def = this.defaults.get(key);
        if (def !== undefined) await writeFile(path(key), def).catch((e: unknown) => failures.push(`${key}: ${(e as Error).message}`));
        this.set.delete(key);
        this.defaults.delete(key);
      }
      await r.cleanupOutputs({ namespace: RuntimeNamespace, type: KernelParamStatusType });
      if (failures.length > 0) throw new Error(`setting kernel parameters: ${failures.join('; ')}`);
      r.resetRestartBackoff();
    }
  }
}
