import type { Command } from '../command.js';
import { applyConfigCommand } from './apply-config.js';
import { bootstrapCommand } from './bootstrap.js';
import { clusterCommand } from './cluster.js';
import { configCommand } from './config.js';
import { containersCommand } from './containers.js';
import { etcdCommand } from './etcd.js';
import { eventsCommand } from './events.js';
import { genCommand } from './gen.js';
import { getCommand } from './get.js';
import { imageCommand } from './image.js';
import { inspectCommand } from './inspect.js';
import { kubeconfigCommand } from './kubeconfig.js';
import { rebootCommand, resetCommand, shutdownCommand } from './lifecycle.js';
import { listCommand } from './list.js';
import { dmesgCommand, logsCommand } from './logs.js';
import { memoryCommand } from './memory.js';
import { metaCommand } from './meta.js';
import { mountsCommand } from './mounts.js';
import { processesCommand } from './processes.js';
import { readCommand } from './read.js';
import { restartCommand } from './restart.js';
import { serviceCommand } from './service.js';
import { statsCommand } from './stats.js';
import { validateCommand } from './validate.js';
import { versionCommand } from './version.js';

/** Every bronzectl command (help lists them sorted by name). */
export const commands: Command[] = [
  applyConfigCommand,
  bootstrapCommand,
  clusterCommand,
  configCommand,
  containersCommand,
  dmesgCommand,
  etcdCommand,
  eventsCommand,
  genCommand,
  getCommand,
  imageCommand,
  inspectCommand,
  kubeconfigCommand,
  listCommand,
  logsCommand,
  memoryCommand,
  metaCommand,
  mountsCommand,
  processesCommand,
  readCommand,
  rebootCommand,
  resetCommand,
  restartCommand,
  serviceCommand,
  shutdownCommand,
  statsCommand,
  validateCommand,
  versionCommand,
];
