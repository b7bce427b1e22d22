import { TarParser } from '../../sys/files/tar-reader.js';

/**
 * The regular files of a tar archive held in memory, as image archives are: name → contents (views into the buffer,
 * no copies). Directories, links and other entries are skipped; a truncated or corrupt archive is an error.
 */
export function readTar(buf: Buffer): Map<string, Buffer> {
  const parser = new TarParser(true);
  const files = new Map<string, Buffer>();
  for (const e of parser.push(buf)) if (e.type === 'file') files.set(e.name.replace(/^\/+/, ''), e.body);
  parser.end();
  return files;
}
