export { GoFileMode, GO_MODE_TYPE, goFileMode, formatGoFileMode, isRegularGoMode } from './file-mode.js';
export { walk, normalizeApiPath, type WalkItem, type WalkOptions, type FileKind } from './walk.js';
export { listFiles, fileInfoOf } from './list.js';
export { diskUsage } from './disk-usage.js';
export { tarGz, encodeTarHeader, padding, TAR_END, type Archive, type ArchiveResult, type TarHeader } from './tar.js';
export { goPathError } from './go-error.js';
