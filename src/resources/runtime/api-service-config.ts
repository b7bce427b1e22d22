import { APIServiceConfigSpec as PB } from '../../api/gen/resource/definitions/runtime/runtime.js';
import { define } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const APIServiceConfigType = 'APIServiceConfigs.runtime.talos.dev';
export const APIServiceConfigID = 'apid';

/** How apid serves: where it listens, whether it routes, and the maintenance-mode relaxations. */
export interface APIServiceConfigSpec {
  listenAddress: string;
  nodeRoutingDisabled: boolean;
  readonlyRoleMode: boolean;
  skipVerifyingClientCert: boolean;
}

export const apiServiceConfigDefinition = define<APIServiceConfigSpec, PB>({ type: APIServiceConfigType, defaultNamespace: RuntimeNamespace }, PB, (s) => s);
