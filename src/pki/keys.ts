import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { PKIError } from './errors.js';
import { decodeFirstPEM, encodePEM, PEMLabel } from './pem.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** Key algorithms of the Talos PKI: Ed25519 (Talos API), ECDSA P-256 (Kubernetes, etcd), RSA (service accounts). */
export type KeyAlgorithm = 'ed25519' | 'ecdsa' | 'rsa';

/** A private key with its algorithm; the public half is derived. */
export interface PrivateKey {
  readonly algorithm: KeyAlgorithm;
  readonly key: KeyObject;
}

export interface GenerateKeyOptions {
  /** RSA modulus length in bits; default 4096 as Talos */
  rsaBits?: number;
}

/** Generates a key: Ed25519, ECDSA on P-256, or RSA (4096 bits unless told). RSA runs off the main thread. */
export async function generatePrivateKey(algorithm: KeyAlgorithm, opts: GenerateKeyOptions = {}): Promise<PrivateKey> {
  switch (algorithm) {
    case 'ed25519':
      return { algorithm, key: (await generateKeyPairAsync('ed25519')).privateKey };
    case 'ecdsa':
      return { algorithm, key: (await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })).privateKey };
    case 'rsa': {
      const bits = opts.rsaBits ?? 4096;
      if (!Number.isInteger(bits) || bits < 2048) throw new PKIError('BRONZE_PKI_OPTION', `RSA key size ${bits} is too small (at least 2048 bits)`);
      return { algorithm, key: (await generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 })).privateKey };
    }
  }
}

function algorithmOf(key: KeyObject, what: string): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ed25519';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve !== 'prime256v1') throw new PKIError('BRONZE_PKI_KEY', `${what}: ECDSA curve ${curve ?? 'unknown'} is not supported (P-256 only)`);
      return 'ecdsa';
    }
    case 'rsa':
      return 'rsa';
    default:
      throw new PKIError('BRONZE_PKI_KEY', `${what}: key type ${key.asymmetricKeyType ?? 'unknown'} is not supported (Ed25519, ECDSA P-256 or RSA)`);
  }
}

const privateLabels = [PEMLabel.ed25519Private, PEMLabel.private, PEMLabel.ecPrivate, PEMLabel.rsaPrivate] as const;

/**
 * Parses a private key PEM under any label Talos accepts: `ED25519 PRIVATE KEY` (PKCS#8, Talos's label, which OpenSSL
 * rejects), `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC 1) and `RSA PRIVATE KEY` (PKCS#1).
 */
export function parsePrivateKey(pem: string, what = 'private key'): PrivateKey {
  const block = decodeFirstPEM(pem, what, privateLabels);
  let key: KeyObject;
  try {
    switch (block.label) {
      case PEMLabel.ecPrivate:
        key = createPrivateKey({ key: block.der, format: 'der', type: 'sec1' });
        break;
      case PEMLabel.rsaPrivate:
        key = createPrivateKey({ key: block.der, format: 'der', type: 'pkcs1' });
        break;
      default:
        key = createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
    }
  } catch (e) {
    throw new PKIError('BRONZE_PKI_KEY', `${what}: cannot parse "${block.label}" block: ${(e as Error).message}`, { cause: e });
  }
  return { algorithm: algorithmOf(key, what), key };
}

/** The private key PEM as Talos writes it: `ED25519 PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC 1), `RSA PRIVATE KEY` (PKCS#1). */
export function privateKeyToPEM(k: PrivateKey): string {
  switch (k.algorithm) {
    case 'ed25519':
      return encodePEM(PEMLabel.ed25519Private, k.key.export({ format: 'der', type: 'pkcs8' }));
    case 'ecdsa':
      return encodePEM(PEMLabel.ecPrivate, k.key.export({ format: 'der', type: 'sec1' }));
    case 'rsa':
      return encodePEM(PEMLabel.rsaPrivate, k.key.export({ format: 'der', type: 'pkcs1' }));
  }
}

/** The private key as standard PKCS#8 `PRIVATE KEY`, which OpenSSL and Node's TLS load. */
export function privateKeyToPKCS8PEM(k: PrivateKey): string {
  return encodePEM(PEMLabel.private, k.key.export({ format: 'der', type: 'pkcs8' }));
}

/** The public key of a private key. */
export function publicKeyOf(k: PrivateKey): KeyObject {
  return createPublicKey(k.key);
}

/** The public key as PEM: PKIX `PUBLIC KEY` under the label Talos uses for the algorithm. */
export function publicKeyToPEM(k: PrivateKey | KeyObject): string {
  const pub = 'algorithm' in k ? publicKeyOf(k) : k;
  const der = pub.export({ format: 'der', type: 'spki' });
  const alg = algorithmOf(pub, 'public key');
  return encodePEM(alg === 'ed25519' ? PEMLabel.ed25519Public : alg === 'ecdsa' ? PEMLabel.ecPublic : PEMLabel.rsaPublic, der);
}

/** The WebCrypto algorithm a key signs with, as Talos does: Ed25519, ECDSA with SHA-256, RSA PKCS#1 v1.5 with SHA-256. */
export function signingAlgorithm(alg: KeyAlgorithm): webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams {
  switch (alg) {
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'ecdsa':
      return { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams;
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as webcrypto.RsaHashedImportParams;
  }
}

function importAlgorithm(alg: KeyAlgorithm): webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams {
  switch (alg) {
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'ecdsa':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
}

/** The key as a WebCrypto key pair (what @peculiar/x509 signs with). */
export async function toCryptoKeyPair(k: PrivateKey): Promise<webcrypto.CryptoKeyPair> {
  const alg = importAlgorithm(k.algorithm);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', k.key.export({ format: 'der', type: 'pkcs8' }), alg, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', publicKeyOf(k).export({ format: 'der', type: 'spki' }), alg, true, ['verify']);
  return { privateKey, publicKey };
}

/** A public key (KeyObject) as a WebCrypto key. */
export async function toCryptoPublicKey(pub: KeyObject): Promise<webcrypto.CryptoKey> {
  const alg = algorithmOf(pub, 'public key');
  return webcrypto.subtle.importKey('spki', pub.export({ format: 'der', type: 'spki' }), importAlgorithm(alg), true, ['verify']);
}

/** The algorithm of a public key, for keys that arrive in certificates and CSRs. */
export function publicKeyAlgorithm(pub: KeyObject): KeyAlgorithm {
  return algorithmOf(pub, 'public key');
}
