import { DiskUsageInfo, type DiskUsageRequest } from '../../api/gen/machine/machine.js';
import { SysError } from '../errors.js';
import { normalizeApiPath, walk, type WalkItem } from './walk.js';

const slashes = (p: string) => p.split('/').length - 1;

/**
 * Talos's DiskUsage: for each path, the size of every directory (its own size plus everything below it, computed
 * bottom-up) and, with `all`, of every file. Directories are reported after their contents, the root last.
 * `recursionDepth` > 0 hides entries at that depth or deeper (depth = `/` count below the root); `threshold` > 0
 * hides entries smaller than it, < 0 hides entries larger than its absolute value. Unreadable entries come back
 * with `error`. Unlike Talos (which stops after the first path), every path is reported.
 */
export async function* diskUsage(req: Pick<DiskUsageRequest, 'paths' | 'recursionDepth' | 'all' | 'threshold'>, signal?: AbortSignal): AsyncGenerator<DiskUsageInfo> {
  const threshold = BigInt(req.threshold || '0');
  const depthLimit = req.recursionDepth;
  for (const raw of req.paths) {
    const path = normalizeApiPath(raw);
    let items: AsyncGenerator<WalkItem>;
    try {
      items = walk(path, { maxDepth: -1, signal });
      // the first step reads the root: surface its error as an entry
      const first = await items.next();
      if (first.done) continue;
      yield* summarize(first.value, items);
    } catch (e) {
      if (!(e instanceof SysError) || e.code !== 'BRONZE_SYS_NOT_FOUND') throw e;
      yield DiskUsageInfo.fromPartial({ name: path, relativeName: path, error: e.message });
    }
  }

  function hidden(size: bigint, depth: number, isDir: boolean): boolean {
    if (depthLimit > 0 && depth >= depthLimit) return true;
    if (!isDir && !req.all) return true;
    if (threshold > 0n && size < threshold) return true;
    if (threshold < 0n && size > -threshold) return true;
    return false;
  }

  async function* summarize(rootItem: WalkItem, rest: AsyncGenerator<WalkItem>): AsyncGenerator<DiskUsageInfo> {
    const rootSlashes = slashes(rootItem.fullPath);
    // open directories, innermost last
    const open: { item: WalkItem; size: bigint }[] = [];
    const sizeOf = (item: WalkItem) => (item.fullPath === '/proc/kcore' || !item.stat ? 0n : BigInt(Math.max(item.stat.size, 0)));
    const depthOf = (p: string) => slashes(p) - rootSlashes;
    const out = (item: WalkItem, size: bigint) => DiskUsageInfo.fromPartial({ name: item.fullPath, relativeName: item.relPath, size: size.toString() });

    function* close(until: (dir: string) => boolean): Generator<DiskUsageInfo> {
      while (open.length > 0 && !until(open[open.length - 1].item.fullPath)) {
        const done = open.pop()!;
        if (open.length > 0) open[open.length - 1].size += done.size;
        if (!hidden(done.size, depthOf(done.item.fullPath), true)) yield out(done.item, done.size);
      }
    }
    const isAncestor = (dir: string, p: string) => p.startsWith(dir === '/' ? '/' : `${dir}/`);

    async function* feed(item: WalkItem): AsyncGenerator<DiskUsageInfo> {
      yield* close((dir) => isAncestor(dir, item.fullPath));
      if (item.error !== undefined) {
        yield DiskUsageInfo.fromPartial({ name: item.fullPath, relativeName: item.relPath, error: item.error });
        return;
      }
      if (item.stat?.isDirectory()) {
        open.push({ item, size: sizeOf(item) });
        return;
      }
      const size = sizeOf(item);
      if (open.length > 0) open[open.length - 1].size += size;
      if (!hidden(size, depthOf(item.fullPath), false)) yield out(item, size);
    }

    yield* feed(rootItem);
    for await (const item of rest) {
      // a directory that could not be listed shows up again with its error: report it, keep its size
      if (item.error !== undefined && open.length > 0 && open[open.length - 1].item.fullPath === item.fullPath) {
        yield DiskUsageInfo.fromPartial({ name: item.fullPath, relativeName: item.relPath, error: item.error });
        continue;
      }
      yield* feed(item);
    }
    yield* close(() => false);
  }
}
