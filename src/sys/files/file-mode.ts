import { constants, type Stats } from 'node:fs';

/**
 * Go's os.FileMode bits (io/fs): the file type lives in the top bits, the permission bits in the low nine, and
 * setuid/setgid/sticky get bits of their own. The Talos API (FileInfo.mode) carries this layout, not POSIX st_mode.
 */
export const GoFileMode = {
  Dir: 2 ** 31,
  Append: 1 << 30,
  Exclusive: 1 << 29,
  Temporary: 1 << 28,
  Symlink: 1 << 27,
  Device: 1 << 26,
  NamedPipe: 1 << 25,
  Socket: 1 << 24,
  Setuid: 1 << 23,
  Setgid: 1 << 22,
  CharDevice: 1 << 21,
  Sticky: 1 << 20,
  Irregular: 1 << 19,
  Perm: 0o777,
} as const;

/** Mask of the type bits (Go's ModeType). */
export const GO_MODE_TYPE =
  GoFileMode.Dir + GoFileMode.Symlink + GoFileMode.NamedPipe + GoFileMode.Socket + GoFileMode.Device + GoFileMode.CharDevice + GoFileMode.Irregular;

/** Converts a POSIX st_mode to Go's os.FileMode (as Go's os.Lstat fills it on Linux); the result is an unsigned 32-bit number. */
export function goFileMode(stMode: number): number {
  let mode = stMode & 0o777;
  switch (stMode & constants.S_IFMT) {
    case constants.S_IFBLK:
      mode += GoFileMode.Device;
      break;
    case constants.S_IFCHR:
      mode += GoFileMode.Device + GoFileMode.CharDevice;
      break;
    case constants.S_IFDIR:
      mode += GoFileMode.Dir;
      break;
    case constants.S_IFIFO:
      mode += GoFileMode.NamedPipe;
      break;
    case constants.S_IFLNK:
      mode += GoFileMode.Symlink;
      break;
    case constants.S_IFSOCK:
      mode += GoFileMode.Socket;
      break;
    default:
      break;
  }
  if (stMode & 0o4000) mode += GoFileMode.Setuid;
  if (stMode & 0o2000) mode += GoFileMode.Setgid;
  if (stMode & 0o1000) mode += GoFileMode.Sticky;
  return mode >>> 0;
}

/** Go's FileMode.IsRegular: no type bits set. */
export function isRegularGoMode(goMode: number): boolean {
  return (goMode & GO_MODE_TYPE) === 0 && Math.floor(goMode / GoFileMode.Dir) === 0;
}

export function goModeOf(st: Stats): number {
  return goFileMode(st.mode);
}

/** Formats a Go FileMode as Go's FileMode.String does (`drwxr-xr-x`, `Lrwxrwxrwx`, `-rw-r--r--`). */
export function formatGoFileMode(m: number): string {
  const letters = 'dalTLDpSugct?';
  let s = '';
  for (let i = 0; i < letters.length; i++) {
    const bit = 2 ** (31 - i);
    if (Math.floor(m / bit) % 2 === 1) s += letters[i];
  }
  if (s === '') s = '-';
  const rwx = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) s += m & (1 << (8 - i)) ? rwx[i] : '-';
  return s;
}
