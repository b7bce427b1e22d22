import type { Command } from '../command.js';
import { configCommand } from './config.js';
import { genCommand } from './gen.js';
import { validateCommand } from './validate.js';
import { getCommand } from './get.js';
import { inspectCommand } from './inspect.js';
import { dmesgCommand, logsCommand } from './logs.js';
import { readCommand } from './read.js';
import { memoryCommand } from './memory.js';
import { mountsCommand } from './mounts.js';
import { serviceCommand } from './service.js';
import { versionCommand } from './version.js';

/** Every bronzectl command, in the order of talosctl's reference. */
export const commands: Command[] = [configCommand, dmesgCommand, genCommand, getCommand, inspectCommand, logsCommand, memoryCommand, mountsCommand, readCommand, serviceCommand, validateCommand, versionCommand];
