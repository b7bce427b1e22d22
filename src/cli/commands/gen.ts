import type { Command } from '../command.js';
import { genCACommand } from './gen-ca.js';
import { genConfigCommand } from './gen-config.js';
import { genCrtCommand } from './gen-crt.js';
import { genCSRCommand } from './gen-csr.js';
import { genKeyCommand } from './gen-key.js';
import { genKeypairCommand } from './gen-keypair.js';
import { genSecretsCommand } from './gen-secrets.js';

export const genCommand: Command = {
  name: 'gen',
  summary: 'Generate CAs, certificates, and private keys',
  subcommands: [genCACommand, genConfigCommand, genCrtCommand, genCSRCommand, genKeyCommand, genKeypairCommand, genSecretsCommand],
};
