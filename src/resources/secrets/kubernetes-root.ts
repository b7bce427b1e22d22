import { KubernetesRootSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, netIP, pemCert, pemPair } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';
import type { PEMPair } from './api-certificates.js';

export const KubernetesRootType = 'KubernetesRootSecrets.secrets.talos.dev';
export const KubernetesRootID = 'k8s';

/** The cluster's Kubernetes secrets and names from the config, on control planes. */
export interface KubernetesRootSpec {
  name: string;
  endpoint: string;
  localEndpoint: string;
  certSANs: string[];
  dnsDomain: string;
  issuingCA?: PEMPair;
  serviceAccount?: { key: string };
  aggregatorCA?: PEMPair;
  aescbcEncryptionSecret: string;
  secretboxEncryptionSecret: string;
  bootstrapTokenID: string;
  bootstrapTokenSecret: string;
  apiServerIPs: string[];
  acceptedCAs: { crt: string }[];
}

export const kubernetesRootDefinition = define<KubernetesRootSpec, PB>({ type: KubernetesRootType, defaultNamespace: SecretsNamespace, sensitive: true }, PB, (s) => ({
  name: s.name,
  endpoint: { fullPath: s.endpoint },
  localEndpoint: { fullPath: s.localEndpoint },
  certSaNs: s.certSANs,
  dnsDomain: s.dnsDomain,
  issuingCa: pemPair(s.issuingCA),
  serviceAccount: s.serviceAccount ? { key: Buffer.from(s.serviceAccount.key, 'base64') } : undefined,
  aggregatorCa: pemPair(s.aggregatorCA),
  aescbcEncryptionSecret: s.aescbcEncryptionSecret,
  bootstrapTokenId: s.bootstrapTokenID,
  bootstrapTokenSecret: s.bootstrapTokenSecret,
  secretboxEncryptionSecret: s.secretboxEncryptionSecret,
  apiServerIps: s.apiServerIPs.map(netIP),
  acceptedCAs: s.acceptedCAs.map(pemCert),
}));
