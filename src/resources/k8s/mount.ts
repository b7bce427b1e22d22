import type { DeepPartial } from '../../client/rpc.js';
import type { Mount as PBMount } from '../../api/gen/resource/definitions/proto/proto.js';

/** An OCI mount as the kubelet's specs carry it (`machine.kubelet.extraMounts`). */
export interface KubeletMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/**
 * A mount as Talos prints it: the OCI runtime spec's Mount has no YAML names, so its fields appear under their
 * lower-cased Go names, the id mappings included (empty).
 */
export const mountYAML = (m: KubeletMount) => ({ destination: m.destination, type: m.type, source: m.source, options: [...m.options], uidmappings: [], gidmappings: [] });

export const mountProto = (m: KubeletMount): DeepPartial<PBMount> => ({ destination: m.destination, type: m.type, source: m.source, options: m.options });

/** `{ "feature-gates": { values: ["A=true"] } }`: extra flags, each with its values (`--flag=value` per value). */
export type KubeletExtraArgs = Record<string, { values: string[] }>;
