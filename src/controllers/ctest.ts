import pino from 'pino';
import type { Controller } from '../cosi/controller/controller.js';
import { ControllerRuntime } from '../cosi/controller/runtime.js';
import { InMemoryState } from '../cosi/inmem.js';
import { type Kind, newResource, type Pointer, pointerString, type ReadonlyResource } from '../cosi/resource.js';
import { State } from '../cosi/state.js';

/**
 * A controller test (in the spirit of Talos's ctest): a fresh in-memory state, the controllers under test running in
 * the background, and assertions that wait on watch events with a deadline and say what they saw when it passes.
 */
export class ControllerTest {
  readonly state = new State(new InMemoryState());
  private readonly runtime: ControllerRuntime;

  private constructor(controllers: Controller[], private readonly deadlineMs: number) {
    this.runtime = new ControllerRuntime(this.state, pino({ level: 'silent' }), { backoffBaseMs: 10 });
    for (const c of controllers) this.runtime.register(c);
    this.runtime.start();
  }

  static start(controllers: Controller[], opts: { deadlineMs?: number } = {}): ControllerTest {
    return new ControllerTest(controllers, opts.deadlineMs ?? 10_000);
  }

  async create<S>(ptr: Pointer, spec: S): Promise<void> {
    await this.state.create(newResource(ptr, spec));
  }

  async update<S>(ptr: Pointer, fn: (spec: S) => S | void): Promise<void> {
    await this.state.updateWithConflicts(ptr, (r) => {
      const next = fn(r.spec as S);
      if (next !== undefined) r.spec = next;
    });
  }

  async destroy(ptr: Pointer): Promise<void> {
    await this.state.destroy(ptr);
  }

  /** Waits until the resource exists and `pred` holds for its spec; returns the spec. */
  async expect<S>(ptr: Pointer, pred: (spec: S) => boolean = () => true): Promise<S> {
    const r = await this.until(ptr, (x) => x !== undefined && pred(x.spec as S), 'to match');
    return r!.spec as S;
  }

  /** Waits until the resource does not exist. */
  async expectGone(ptr: Pointer): Promise<void> {
    await this.until(ptr, (x) => x === undefined, 'to be gone');
  }

  /** Waits until the IDs of a kind are exactly these (in any order). */
  async expectIDs(kind: Kind, ids: string[]): Promise<void> {
    const want = JSON.stringify([...ids].sort());
    const signal = AbortSignal.timeout(this.deadlineMs);
    const w = await this.state.watchKind(kind, {}, signal);
    let have: string[] = [];
    try {
      for (;;) {
        have = (await this.state.list(kind)).map((r) => r.metadata.id).sort();
        if (JSON.stringify(have) === want) return;
        if ((await w.next()).done) break;
      }
    } finally {
      w.close();
    }
    throw new Error(`${kind.type}(${kind.namespace}): expected ids ${want} within ${this.deadlineMs} ms, have ${JSON.stringify(have)}`);
  }

  private async until(ptr: Pointer, pred: (r: ReadonlyResource | undefined) => boolean, what: string): Promise<ReadonlyResource | undefined> {
    try {
      return await this.state.watchFor(ptr, pred, AbortSignal.timeout(this.deadlineMs));
    } catch (e) {
      const last = await this.state.get(ptr).catch(() => undefined);
      throw new Error(`expected ${pointerString(ptr)} ${what} within ${this.deadlineMs} ms; last: ${last ? JSON.stringify(last.spec) : 'absent'}`, { cause: e });
    }
  }

  stop(): Promise<void> {
    return this.runtime.stop();
  }
}
