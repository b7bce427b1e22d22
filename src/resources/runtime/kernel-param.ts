import { KernelParamSpecSpec as PBSpec, KernelParamStatusSpec as PBStatus } from '../../api/gen/resource/definitions/runtime/runtime.js';
import { define } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const KernelParamSpecType = 'KernelParamSpecs.runtime.talos.dev';
export const KernelParamDefaultSpecType = 'KernelParamDefaultSpecs.runtime.talos.dev';
export const KernelParamStatusType = 'KernelParamStatuses.runtime.talos.dev';

/** A sysctl to set (ID = its key, `net.ipv4.ip_forward` or `net/ipv6/conf/eth0.100/disable_ipv6`). */
export interface KernelParamSpecSpec {
  value: string;
  ignoreErrors: boolean;
}

/** A sysctl as it is: the value set, the one the kernel had before, or that the kernel does not have it. */
export interface KernelParamStatusSpec {
  current: string;
  default: string;
  unsupported: boolean;
}

export const kernelParamSpecDefinition = define<KernelParamSpecSpec, PBSpec>({ type: KernelParamSpecType, defaultNamespace: RuntimeNamespace }, PBSpec, (s) => s);
export const kernelParamDefaultSpecDefinition = define<KernelParamSpecSpec, PBSpec>({ type: KernelParamDefaultSpecType, defaultNamespace: RuntimeNamespace }, PBSpec, (s) => s);
export const kernelParamStatusDefinition = define<KernelParamStatusSpec, PBStatus>(
  {
    type: KernelParamStatusType,
    defaultNamespace: RuntimeNamespace,
    aliases: ['sysctls', 'kernelparameters', 'kernelparams'],
    printColumns: [
      { name: 'Current', jsonPath: '{.current}' },
      { name: 'Default', jsonPath: '{.default}' },
      { name: 'Unsupported', jsonPath: '{.unsupported}' },
    ],
  },
  PBStatus,
  (s) => s,
);

/** The /proc/sys path of a key: dots become slashes, unless the key is written as a path already. */
export const kernelParamPath = (key: string) => (key.includes('/') ? key : key.replace(/\./g, '/'));
