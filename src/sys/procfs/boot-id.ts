import { PROC, readText } from './util.js';

/** The kernel's boot id (a UUID that changes on every boot; talosctl compares it around reboots). */
export async function readBootID(proc = PROC): Promise<string> {
  return (await readText(`${proc}/sys/kernel/random/boot_id`)).trim();
}
