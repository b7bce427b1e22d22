import { FileInfo, ListRequest_Type, type ListRequest } from '../../api/gen/machine/machine.js';
import { walk, normalizeApiPath, type FileKind, type WalkItem } from './walk.js';

const KINDS: Record<number, FileKind | undefined> = {
  [ListRequest_Type.REGULAR]: 'regular',
  [ListRequest_Type.DIRECTORY]: 'directory',
  [ListRequest_Type.SYMLINK]: 'symlink',
};

export function fileInfoOf(item: WalkItem): FileInfo {
  if (item.error !== undefined || !item.stat) {
    return FileInfo.fromPartial({ name: item.fullPath, relativeName: item.relPath, error: item.error ?? 'unknown error' });
  }
  const st = item.stat;
  return FileInfo.fromPartial({
    name: item.fullPath,
    relativeName: item.relPath,
    size: String(st.size),
    mode: item.mode,
    modified: String(Math.floor(st.mtimeMs / 1000)),
    isDir: st.isDirectory(),
    link: item.link ?? '',
    uid: st.uid,
    gid: st.gid,
    xattrs: [],
  });
}

/**
 * The entries of Talos's List RPC: the root first (relative name `.`, or its base name when it is a file), then the
 * tree in lexical order. Without `recurse` only the root's direct children are listed; with `recurse`,
 * `recursionDepth` 0 means unlimited and N means N levels. `types` filters every entry.
 *
 * Extended attributes are not reported (`report_xattrs` yields an empty list): Node has no xattr calls.
 */
export async function* listFiles(req: Pick<ListRequest, 'root' | 'recurse' | 'recursionDepth' | 'types'>, signal?: AbortSignal): AsyncGenerator<FileInfo> {
  const root = normalizeApiPath(req.root);
  const maxDepth = req.recurse ? (req.recursionDepth === 0 ? -1 : req.recursionDepth) : 0;
  const types = req.types.map((t) => KINDS[t]).filter((k): k is FileKind => k !== undefined);
  for await (const item of walk(root, { maxDepth, types, signal })) yield fileInfoOf(item);
}
