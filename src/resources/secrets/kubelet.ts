import { KubeletSpec as PB } from '../../api/gen/resource/definitions/secrets/secrets.js';
import { define, pemCert } from '../codec.js';
import { SecretsNamespace } from '../namespaces.js';

export const KubeletSecretsType = 'KubeletSecrets.secrets.talos.dev';
export const KubeletSecretsID = 'kubelet';

/** What a kubelet joins the cluster with: the API endpoint it talks to, the CAs it trusts, the bootstrap token. */
export interface KubeletSecretsSpec {
  endpoint: string;
  /** PEM certificates, base64 as the config holds them */
  acceptedCAs: { crt: string }[];
  bootstrapTokenID: string;
  bootstrapTokenSecret: string;
}

export const kubeletSecretsDefinition = define<KubeletSecretsSpec, PB>({ type: KubeletSecretsType, defaultNamespace: SecretsNamespace, sensitive: true }, PB, (s) => ({
  endpoint: { fullPath: s.endpoint },
  acceptedCAs: s.acceptedCAs.map(pemCert),
  bootstrapTokenId: s.bootstrapTokenID,
  bootstrapTokenSecret: s.bootstrapTokenSecret,
}));
