import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeTalosconfig } from '../../client/talosconfig.js';
import { parseContract } from '../../config/generate/contract.js';
import { DEFAULT_INSTALL_DISK, DEFAULT_INSTALLER_IMAGE, DEFAULT_KUBERNETES_VERSION, generateBundle, type GenerateInput } from '../../config/generate/config.js';
import { parseSecrets } from '../../config/generate/secrets.js';
import { parseGoURL, validateEndpointURI } from '../../config/net.js';
import { loadPatches } from '../../config/patch/load.js';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../flags.js';
import { ensureWritable, forceFlag, writeOutput } from './gen-files.js';

const outputTypes = ['controlplane', 'worker', 'talosconfig'];

/** The endpoint talosctl suggests for one without scheme or port. */
function fixEndpoint(endpoint: string): string {
  const u = parseGoURL(endpoint);
  let host = typeof u === 'string' ? endpoint : u.host || u.path;
  if (typeof u !== 'string' && u.opaque) host = endpoint;
  if (!/:\d+$/.test(host) || (host.includes(':') && !host.startsWith('[') && (host.match(/:/g)?.length ?? 0) > 1)) host = `${host}:6443`;
  return `https://${host}`;
}

/** talosctl's checks of the cluster endpoint: a scheme, https, and a valid URL. */
export function validateClusterEndpoint(endpoint: string): void {
  const u = parseGoURL(endpoint);
  const parsed = typeof u === 'string' ? undefined : u;
  if (!parsed && endpoint.includes('/')) throw new Error(`failed to parse the cluster endpoint URL: ${u as string}`);
  const scheme = parsed && !parsed.opaque ? parsed.scheme : '';
  if (!scheme) {
    const hasPort = /:\d+$/.test(endpoint);
    throw new Error(`${hasPort ? 'no scheme specified for the cluster endpoint URL' : 'no scheme and port specified for the cluster endpoint URL'}\ntry: "${fixEndpoint(endpoint)}"`);
  }
  if (scheme !== 'https') throw new Error(`the control plane endpoint URL should have scheme https://\ntry: "${fixEndpoint(parsed!.host)}"`);
  const e = validateEndpointURI(endpoint);
  if (e) throw new Error(`error validating the cluster endpoint URL: ${e}`);
}

function readPatches(list: string[]) {
  return loadPatches(list);
}

export const genConfigCommand: Command = {
  name: 'config',
  summary: 'Generates a set of configuration files for Talos cluster',
  usage: '<cluster name> <cluster endpoint>',
  flags: [
    { name: 'install-disk', kind: 'string', description: 'the disk to install to', default: DEFAULT_INSTALL_DISK },
    { name: 'install-image', kind: 'string', description: 'the image used to perform an installation', default: DEFAULT_INSTALLER_IMAGE },
    { name: 'additional-sans', kind: 'list', description: 'additional Subject-Alt-Names for the APIServer certificate' },
    { name: 'dns-domain', kind: 'string', description: 'the dns domain to use for cluster', default: 'cluster.local' },
    { name: 'version', kind: 'string', description: 'the desired machine config version to generate', default: 'v1alpha1' },
    { name: 'talos-version', kind: 'string', description: 'the desired Talos version to generate config for (backwards compatibility, e.g. v0.8)' },
    { name: 'kubernetes-version', kind: 'string', description: 'desired kubernetes version to run', default: DEFAULT_KUBERNETES_VERSION },
    { name: 'config-patch', kind: 'list', noSplit: true, description: 'patch generated machineconfigs (applied to all node types), use @file to read a patch from file' },
    { name: 'config-patch-control-plane', kind: 'list', noSplit: true, description: "patch generated machineconfigs (applied to 'init' and 'controlplane' types)" },
    { name: 'config-patch-worker', kind: 'list', noSplit: true, description: "patch generated machineconfigs (applied to 'worker' type)" },
    { name: 'registry-mirror', kind: 'list', description: 'list of registry mirrors to use in format: <registry host>=<mirror URL>' },
    { name: 'with-examples', kind: 'bool', description: 'renders all machine configs with the commented examples', default: true },
    { name: 'with-docs', kind: 'bool', description: 'renders all machine configs adding the documentation for each field', default: true },
    { name: 'with-cluster-discovery', kind: 'bool', description: 'enable cluster discovery feature', default: true },
    { name: 'with-kubespan', kind: 'bool', description: 'enable KubeSpan feature' },
    { name: 'with-secrets', kind: 'string', description: "use a secrets file generated using 'gen secrets'" },
    { name: 'output-types', short: 't', kind: 'list', description: `types of outputs to be generated. valid types are: ${JSON.stringify(outputTypes)}`, default: outputTypes },
    { name: 'output', short: 'o', kind: 'string', description: 'destination to output generated files. when multiple output types are specified, it must be a directory. for a single output type, it must either be a file path, or "-" for stdout' },
    { name: 'output-dir', kind: 'string', description: 'destination to output generated files', hidden: true },
    forceFlag,
  ],
  async run(ctx: CommandContext) {
    const [clusterName, endpoint] = ctx.expectArgs(2) as [string, string];
    validateClusterEndpoint(endpoint);
    if ((ctx.string('version') ?? 'v1alpha1') !== 'v1alpha1') throw new Error(`unknown config version: ${JSON.stringify(ctx.string('version'))}`);
    const types = ctx.list('output-types');
    if (!types.length) throw new UsageError('at least one output type must be specified');
    let output = ctx.string('output') ?? '';
    const outputDir = ctx.string('output-dir') ?? '';
    if (types.length > 1 && output === '-') throw new UsageError("can't use multiple output types with stdout");
    if (outputDir && output) throw new UsageError("can't use both output-dir and output");
    if (outputDir) output = outputDir;
    const invalid = types.filter((t) => !outputTypes.includes(t));
    if (invalid.length) throw new UsageError(invalid.map((t) => `invalid output type: ${JSON.stringify(t)}`).join('; '));

    const mirrors: Record<string, string[]> = {};
    for (const spec of ctx.list('registry-mirror')) {
      const eq = spec.indexOf('=');
      if (eq < 0) throw new UsageError(`invalid registry mirror spec: ${JSON.stringify(spec)}`);
      (mirrors[spec.slice(0, eq)] ??= []).push(spec.slice(eq + 1));
    }
    const input: GenerateInput = {
      clusterName,
      endpoint,
      kubernetesVersion: (ctx.string('kubernetes-version') ?? DEFAULT_KUBERNETES_VERSION).replace(/^v/, ''),
      installDisk: ctx.string('install-disk'),
      installImage: ctx.string('install-image'),
      additionalSANs: ctx.list('additional-sans'),
      dnsDomain: ctx.string('dns-domain'),
      discovery: ctx.bool('with-cluster-discovery'),
      registryMirrors: mirrors,
    };
    const version = ctx.string('talos-version');
    if (version) input.contract = parseContract(version);
    if (ctx.bool('with-kubespan')) input.kubeSpan = true;
    const secretsFile = ctx.string('with-secrets');
    if (secretsFile) {
      let text: string;
      try {
        text = readFileSync(secretsFile, 'utf8');
      } catch (e) {
        throw new Error(`failed to load secrets bundle: ${(e as Error).message}`);
      }
      input.secrets = parseSecrets(text, secretsFile);
    }
    const bundle = await generateBundle(input, {
      all: readPatches(ctx.list('config-patch')),
      controlPlane: readPatches(ctx.list('config-patch-control-plane')),
      worker: readPatches(ctx.list('config-patch-worker')),
    });

    const paths: Record<string, string> = {};
    for (const t of outputTypes) {
      const file = t === 'talosconfig' ? 'talosconfig' : `${t}.yaml`;
      if (output === '-') paths[t] = '-';
      else if (output === '') paths[t] = join(process.cwd(), file);
      else if (types.length === 1 && !outputDir) paths[t] = output;
      else paths[t] = join(output, file);
    }
    const enc = { docs: ctx.bool('with-docs'), examples: ctx.bool('with-examples') };
    const outputs: [string, string, number][] = [];
    if (types.includes('controlplane')) outputs.push([paths.controlplane!, bundle.controlplane.encode(enc), 0o644]);
    if (types.includes('worker')) outputs.push([paths.worker!, bundle.worker.encode(enc), 0o644]);
    if (types.includes('talosconfig')) outputs.push([paths.talosconfig!, serializeTalosconfig(bundle.talosconfig), 0o600]);
    ensureWritable(ctx, outputs.map(([p]) => p).filter((p) => p !== '-'));
    for (const [path, data, mode] of outputs) {
      if (path === '-') {
        ctx.out(data);
        continue;
      }
      writeOutput(path, data, mode);
      ctx.err(`Created ${path}\n`);
    }
    return 0;
  },
};
