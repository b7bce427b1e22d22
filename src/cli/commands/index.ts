import type { Command } from '../command.js';
import { applyConfigCommand } from './apply-config.js';
import { bootstrapCommand } from './bootstrap.js';
import { clusterCommand } from './cluster.js';
import { completionCommand } from './completion.js';
import { configCommand } from './config.js';
import { containersCommand } from './containers.js';
import { copyCommand } from './copy.js';
import { disksCommand } from './disks.js';
import { editCommand } from './edit.js';
import { etcdCommand } from './etcd.js';
import { eventsCommand } from './events.js';
import { genCommand } from './gen.js';
import { getCommand } from './get.js';
import { healthCommand } from './health.js';
import { imageCommand } from './image.js';
import { inspectCommand } from './inspect.js';
import { kubeconfigCommand } from './kubeconfig.js';
import { rebootCommand, resetCommand, shutdownCommand } from './lifecycle.js';
import { listCommand } from './list.js';
import { dmesgCommand, logsCommand } from './logs.js';
import { machineconfigCommand } from './machineconfig.js';
import { memoryCommand } from './memory.js';
import { metaCommand } from './meta.js';
import { mountsCommand } from './mounts.js';
import { netstatCommand } from './netstat.js';
import { patchCommand } from './patch.js';
import { processesCommand } from './processes.js';
import { readCommand } from './read.js';
import { restartCommand } from './restart.js';
import { serviceCommand } from './service.js';
import { statsCommand } from './stats.js';
import { timeCommand } from './time.js';
import { validateCommand } from './validate.js';
import { versionCommand } from './version.js';

/** Every bronzectl command (help lists them sorted by name). */
export const commands: Command[] = [
  applyConfigCommand,
  bootstrapCommand,
  clusterCommand,
  completionCommand,
  configCommand,
  containersCommand,
  copyCommand,
  disksCommand,
  editCommand,
  dmesgCommand,
  etcdCommand,
  eventsCommand,
  genCommand,
  getCommand,
  healthCommand,
  imageCommand,
  inspectCommand,
  kubeconfigCommand,
  listCommand,
  logsCommand,
  machineconfigCommand,
  memoryCommand,
  metaCommand,
  mountsCommand,
  netstatCommand,
  patchCommand,
  processesCommand,
  readCommand,
  rebootCommand,
  resetCommand,
  restartCommand,
  serviceCommand,
  shutdownCommand,
  statsCommand,
  timeCommand,
  validateCommand,
  versionCommand,
];
