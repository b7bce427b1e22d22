import type { Command } from '../command.js';
import { configAddCommand } from './config-add.js';
import { configContextCommand } from './config-context.js';
import { configContextsCommand } from './config-contexts.js';
import { configEndpointCommand } from './config-endpoint.js';
import { configInfoCommand } from './config-info.js';
import { configMergeCommand } from './config-merge.js';
import { configNodeCommand } from './config-node.js';
import { configRemoveCommand } from './config-remove.js';

export const configCommand: Command = {
  name: 'config',
  summary: 'Manage the client configuration file (talosconfig)',
  subcommands: [configAddCommand, configContextCommand, configContextsCommand, configEndpointCommand, configInfoCommand, configMergeCommand, configNodeCommand, configRemoveCommand],
};
