/**
 * The secrets bundle (`talosctl gen secrets`): cluster identity, tokens, the encryption secret and the CAs, in the
 * YAML layout talosctl writes (lowercased Go field names, base64 PEM).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYAML } from 'yaml';
import { type CertificateAuthority, createCA, loadCA, toBase64Pair } from '../../pki/cert.js';
import { generatePrivateKey, parsePrivateKey, privateKeyToPEM } from '../../pki/keys.js';
import { fromBase64PEM, toBase64PEM } from '../../pki/pem.js';
import type { MachineConfig } from '../document.js';
import { encodeValue } from '../encode.js';
import { ConfigError } from '../errors.js';
import { obj, str } from '../schema/dsl.js';
import { features, type VersionContract } from './contract.js';

export interface CertAndKey {
  crt: string;
  key: string;
}

export interface SecretsBundle {
  cluster: { id: string; secret: string };
  secrets: { bootstraptoken: string; aescbcencryptionsecret?: string; secretboxencryptionsecret?: string };
  trustdinfo: { token: string };
  certs: {
    etcd: CertAndKey;
    k8s: CertAndKey;
    k8saggregator: CertAndKey;
    k8sserviceaccount: { key: string };
    os: CertAndKey;
  };
}

const pair = obj({ crt: str({ omit: false }), key: str({ omit: false }) });

/** Field order of secrets.yaml as talosctl writes it. */
export const secretsSchema = obj({
  cluster: obj({ id: str({ omit: false }), secret: str({ omit: false }) }),
  secrets: obj({ bootstraptoken: str({ omit: false }), aescbcencryptionsecret: str(), secretboxencryptionsecret: str() }),
  trustdinfo: obj({ token: str({ omit: false }) }),
  certs: obj({ etcd: pair, k8s: pair, k8saggregator: pair, k8sserviceaccount: obj({ key: str({ omit: false }) }), os: pair }),
});

const tokenChars = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random string over [0-9a-z]. */
export function randomTokenString(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += tokenChars[randomInt(tokenChars.length)];
  return s;
}

/** A token `<6>.<16>` over [0-9a-z], as Kubernetes bootstrap tokens and the trustd token. */
export function newToken(): string {
  return `${randomTokenString(6)}.${randomTokenString(16)}`;
}

export const TOKEN_RE = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

export interface GenerateSecretsOptions {
  contract?: VersionContract;
  /** generation time, the CAs' notBefore; default now */
  now?: Date;
}

type PartialSecrets = { cluster?: Partial<SecretsBundle['cluster']>; secrets?: Partial<SecretsBundle['secrets']>; trustdinfo?: Partial<SecretsBundle['trustdinfo']>; certs?: Partial<SecretsBundle['certs']> };

/**
 * Fills what a partial bundle lacks, as Talos's bundle population: Ed25519 OS CA, ECDSA P-256 Kubernetes, aggregator
 * and etcd CAs, RSA-4096 service account key (ECDSA for contracts up to v1.6), tokens, cluster id and secret, and the
 * secretbox (AES-CBC up to v1.2) encryption secret.
 */
export async function completeSecrets(partial: PartialSecrets, opts: GenerateSecretsOptions = {}): Promise<SecretsBundle> {
  const now = opts.now ?? new Date();
  const f = features(opts.contract);
  const c = partial.certs ?? {};
  const [etcd, k8s, agg, os, sa] = await Promise.all([
    c.etcd ?? createCA('ecdsa', { organization: ['etcd'], notBefore: now }).then(toBase64Pair),
    c.k8s ?? createCA('ecdsa', { organization: ['kubernetes'], notBefore: now }).then(toBase64Pair),
    c.k8saggregator ?? createCA('ecdsa', { notBefore: now }).then(toBase64Pair),
    c.os ?? createCA('ed25519', { organization: ['talos'], notBefore: now }).then(toBase64Pair),
    c.k8sserviceaccount ?? generatePrivateKey(f.rsaServiceAccountKey ? 'rsa' : 'ecdsa').then((k) => ({ key: toBase64PEM(privateKeyToPEM(k)) })),
  ]);
  const sec = partial.secrets ?? {};
  const secrets: SecretsBundle['secrets'] = { bootstraptoken: sec.bootstraptoken || newToken() };
  if (f.secretboxEncryption) secrets.secretboxencryptionsecret = sec.secretboxencryptionsecret || randomBytes(32).toString('base64');
  else secrets.aescbcencryptionsecret = sec.aescbcencryptionsecret || randomBytes(32).toString('base64');
  return {
    // the id uses the URL-safe alphabet with padding, the secret the standard one, as Talos
    cluster: { id: partial.cluster?.id || `${randomBytes(32).toString('base64url')}=`, secret: partial.cluster?.secret || randomBytes(32).toString('base64') },
    secrets,
    trustdinfo: { token: partial.trustdinfo?.token || newToken() },
    certs: { etcd, k8s, k8saggregator: agg, k8sserviceaccount: sa, os },
  };
}

/** Generates a new secrets bundle. */
export async function generateSecrets(opts: GenerateSecretsOptions = {}): Promise<SecretsBundle> {
  return completeSecrets({}, opts);
}

/**
 * A bundle from a kubeadm PKI directory (ca, etcd/ca, front-proxy-ca, sa.key), the rest generated
 * (talosctl gen secrets --from-kubernetes-pki).
 */
export async function secretsFromKubernetesPKI(dir: string, bootstrapToken: string, opts: GenerateSecretsOptions = {}): Promise<SecretsBundle> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError('BRONZE_CONFIG_SECRETS', `${JSON.stringify(dir)} is not a directory`);
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (e) {
      throw new ConfigError('BRONZE_CONFIG_SECRETS', `cannot read ${join(dir, name)}: ${(e as Error).message}`, [], { cause: e });
    }
  };
  const pairOf = (crt: string, key: string) => {
    const ca = loadCA(read(crt), read(key), join(dir, crt));
    return toBase64Pair(ca);
  };
  const saKey = read('sa.key');
  parsePrivateKey(saKey, join(dir, 'sa.key'));
  return completeSecrets(
    {
      secrets: { bootstraptoken: bootstrapToken },
      certs: { k8s: pairOf('ca.crt', 'ca.key'), etcd: pairOf('etcd/ca.crt', 'etcd/ca.key'), k8saggregator: pairOf('front-proxy-ca.crt', 'front-proxy-ca.key'), k8sserviceaccount: { key: toBase64PEM(saKey) } },
    },
    opts,
  );
}

/** secrets.yaml text, as talosctl writes it. */
export function serializeSecrets(b: SecretsBundle): string {
  return encodeValue(b as unknown as Record<string, unknown>, secretsSchema);
}

function problems(b: SecretsBundle): string[] {
  const out: string[] = [];
  if (!b.cluster) out.push('cluster is required');
  else {
    if (!b.cluster.id) out.push('cluster.id is required');
    if (!b.cluster.secret) out.push('cluster.secret is required');
  }
  if (!b.secrets) out.push('secrets is required');
  else {
    if (!b.secrets.bootstraptoken) out.push('secrets.bootstraptoken is required');
    if (!b.secrets.aescbcencryptionsecret && !b.secrets.secretboxencryptionsecret) out.push('one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required');
    if (b.secrets.aescbcencryptionsecret && b.secrets.secretboxencryptionsecret) out.push('only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed');
  }
  if (!b.trustdinfo) out.push('trustdinfo is required');
  else if (!b.trustdinfo.token) out.push('trustdinfo.token is required');
  if (!b.certs) {
    out.push('certs is required');
    return out;
  }
  for (const name of ['etcd', 'k8s', 'k8saggregator', 'os'] as const) {
    const c = b.certs[name];
    if (!c) {
      out.push(`certs.${name} is required`);
      continue;
    }
    try {
      loadCA(c.crt ?? '', c.key ?? '', `certs.${name}`);
    } catch (e) {
      out.push(`certs.${name} is invalid: ${(e as Error).message}`);
    }
  }
  if (!b.certs.k8sserviceaccount) out.push('certs.k8sserviceaccount is required');
  else {
    try {
      parsePrivateKey(fromBase64PEM(b.certs.k8sserviceaccount.key ?? '', 'certs.k8sserviceaccount.key'));
    } catch (e) {
      out.push(`certs.k8sserviceaccount.key is invalid: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Checks a bundle as Talos's Bundle.Validate; throws listing every problem. */
export function validateSecrets(b: SecretsBundle): void {
  const p = problems(b);
  if (p.length) throw new ConfigError('BRONZE_CONFIG_SECRETS', `invalid secrets bundle: ${p.join('; ')}`, p.map((m) => ({ document: 'secrets', path: `.${m.split(' ')[0]}`, message: m })));
}

/** Parses secrets.yaml (and validates it). */
export function parseSecrets(text: string, source = 'secrets bundle'): SecretsBundle {
  let raw: unknown;
  try {
    raw = parseYAML(text);
  } catch (e) {
    throw new ConfigError('BRONZE_CONFIG_SECRETS', `${source}: ${(e as Error).message}`, [], { cause: e });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('BRONZE_CONFIG_SECRETS', `${source}: expected a mapping`);
  const b = raw as SecretsBundle;
  validateSecrets(b);
  return b;
}

/** The secrets of a control plane config (talosctl gen secrets --from-controlplane-config). */
export function secretsFromConfig(cfg: MachineConfig): SecretsBundle {
  const v = cfg.v1alpha1;
  if (!v?.machine || !v.cluster) throw new ConfigError('BRONZE_CONFIG_SECRETS', 'the config has no v1alpha1 machine and cluster sections');
  const c = v.cluster;
  const m = v.machine;
  const b: SecretsBundle = {
    cluster: { id: c.id ?? '', secret: c.secret ?? '' },
    secrets: { bootstraptoken: c.token ?? '', ...(c.aescbcEncryptionSecret ? { aescbcencryptionsecret: c.aescbcEncryptionSecret } : {}), ...(c.secretboxEncryptionSecret ? { secretboxencryptionsecret: c.secretboxEncryptionSecret } : {}) },
    trustdinfo: { token: m.token ?? '' },
    certs: {
      etcd: { crt: c.etcd?.ca?.crt ?? '', key: c.etcd?.ca?.key ?? '' },
      k8s: { crt: c.ca?.crt ?? '', key: c.ca?.key ?? '' },
      k8saggregator: { crt: c.aggregatorCA?.crt ?? '', key: c.aggregatorCA?.key ?? '' },
      k8sserviceaccount: { key: c.serviceAccount?.key ?? '' },
      os: { crt: m.ca?.crt ?? '', key: m.ca?.key ?? '' },
    },
  };
  validateSecrets(b);
  return b;
}

/** The OS (Talos API) CA of a bundle. */
export function osCA(b: SecretsBundle): CertificateAuthority {
  return loadCA(b.certs.os.crt, b.certs.os.key, 'certs.os');
}
