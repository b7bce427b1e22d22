import type { Command } from '../command.js';
import { inspectCommand } from './inspect.js';
import { memoryCommand } from './memory.js';
import { mountsCommand } from './mounts.js';
import { serviceCommand } from './service.js';
import { versionCommand } from './version.js';

/** Every bronzectl command, in the order of talosctl's reference. */
export const commands: Command[] = [inspectCommand, memoryCommand, mountsCommand, serviceCommand, versionCommand];
