/**
 * Version contracts: `--talos-version vX.Y` makes `gen config` and `gen secrets` produce what that Talos release
 * expects. No contract means the current one (v1.13 here), which has every feature.
 */
import { ConfigError } from '../errors.js';

export interface VersionContract {
  major: number;
  minor: number;
}

/** Parses `v1.8`, `1.8.3`, `v1.13.0-beta.1` into a contract. */
export function parseContract(version: string): VersionContract {
  const m = /^v(\d+)\.(\d+)($|\.)/.exec(`v${version.replace(/^v/, '')}`);
  if (!m) throw new ConfigError('BRONZE_CONFIG_GENERATE', `error parsing version ${JSON.stringify(`v${version.replace(/^v/, '')}`)}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** `contract > v<major>.<minor>`; the current contract (undefined) is greater than any. */
export function greater(c: VersionContract | undefined, major: number, minor: number): boolean {
  if (!c) return true;
  return c.major > major || (c.major === major && c.minor > minor);
}

export function contractString(c: VersionContract | undefined): string {
  return c ? `v${c.major}.${c.minor}` : 'current';
}

/** The feature gates of the contract, named as in Talos. */
export function features(c: VersionContract | undefined) {
  return {
    podSecurityAdmission: greater(c, 1, 0),
    stableHostname: greater(c, 1, 1),
    kubeletDefaultRuntimeSeccompProfile: greater(c, 1, 1),
    kubernetesAlternateImageRegistries: greater(c, 1, 1) && !greater(c, 1, 2),
    allowSchedulingOnControlPlanes: greater(c, 1, 1),
    kubernetesDiscoveryBackendDisabled: greater(c, 1, 1),
    apidExtKeyUsageCheck: greater(c, 1, 2),
    apiServerAuditPolicy: greater(c, 1, 2),
    kubeletManifestsDirectoryDisabled: greater(c, 1, 2),
    secretboxEncryption: greater(c, 1, 2),
    diskQuotaSupport: greater(c, 1, 4),
    kubePrism: greater(c, 1, 5),
    hostDNS: greater(c, 1, 6),
    rsaServiceAccountKey: greater(c, 1, 6),
    clusterNameForWorkers: greater(c, 1, 7),
    hostDNSForwardKubeDNSToHost: greater(c, 1, 7),
    excludeFromExternalLoadBalancer: greater(c, 1, 7),
    multidocNetworkConfig: greater(c, 1, 11),
    hideDisablePSP: greater(c, 1, 11),
    hideRBACAndKeyUsage: greater(c, 1, 11),
    populateClusterSANsFromEndpoint: !greater(c, 1, 11),
    grubUseUKICmdline: greater(c, 1, 11),
    kubeSpanMultidocConfig: greater(c, 1, 12),
  };
}
