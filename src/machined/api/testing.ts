import assert from 'node:assert/strict';
import type { V1Alpha1Config } from '../../config/document.js';
import { loadConfig } from '../../config/loader.js';

/** The config text with its v1alpha1 document changed (tests). */
export function editV1Alpha1(text: string, mutate: (v: V1Alpha1Config) => void): string {
  const cfg = loadConfig(text);
  const doc = cfg.v1alpha1Document!;
  const value = structuredClone(doc.value) as V1Alpha1Config;
  mutate(value);
  doc.setValue(value as Record<string, unknown>);
  return cfg.toString();
}

/** Asserts that `p` rejects with this gRPC code and exactly this message (tests). */
export async function rejectsWithGrpc(p: Promise<unknown>, code: number, message: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal((e as { grpcCode?: number }).grpcCode, code);
    assert.equal(e.message, message);
    return true;
  });
}
