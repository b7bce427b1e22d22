import type { Command } from '../command.js';
import { serviceCommand } from './service.js';
import { versionCommand } from './version.js';

/** Every bronzectl command, in the order of talosctl's reference. */
export const commands: Command[] = [serviceCommand, versionCommand];
