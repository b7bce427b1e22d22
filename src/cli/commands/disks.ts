import type { Command } from '../command.js';
import { resultOutputFlag } from '../output/format.js';

/** talosctl v1.13 keeps `disks` only to point at the resources that replaced it. */
export const disksCommand: Command = {
  name: 'disks',
  summary: 'Get the list of disks from /sys/block on the machine',
  hidden: true,
  // accepted as talosctl accepts it; the command only says what replaced it
  flags: [resultOutputFlag],
  run() {
    throw new Error('`bronzectl disks` is deprecated, please use `bronzectl get disks`, `bronzectl get systemdisk`, `bronzectl get discoveredvolumes` instead');
  },
};
