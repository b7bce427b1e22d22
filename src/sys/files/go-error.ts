import { errnoCode } from '../errors.js';

/**
 * Renders a Node fs error the way Go's *PathError prints (`lstat /x: no such file or directory`), so messages in
 * FileInfo.error read as they do on a Talos node.
 */
export function goPathError(op: string, path: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const code = errnoCode(e);
  const m = code ? new RegExp(`^${code}: (.*?), `).exec(msg) : null;
  return `${op} ${path}: ${m ? m[1] : msg}`;
}
