import { OperatorSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { ConfigLayer, type ConfigLayerName, define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const OperatorSpecType = 'OperatorSpecs.net.talos.dev';

/** An operator to run on a link (ID `dhcp4/<link>`): today DHCPv4. */
export interface OperatorSpecSpec {
  operator: 'dhcp4';
  linkName: string;
  requireUp: boolean;
  dhcp4: { routeMetric: number; skipHostnameRequest: boolean };
  layer: ConfigLayerName;
}

const OPERATORS = { dhcp4: 0 } as const;

export const operatorSpecDefinition = define<OperatorSpecSpec, PB>({ type: OperatorSpecType, defaultNamespace: NetworkNamespace }, PB, (s) => ({
  operator: OPERATORS[s.operator],
  linkName: s.linkName,
  requireUp: s.requireUp,
  dhcp4: { routeMetric: s.dhcp4.routeMetric, skipHostnameRequest: s.dhcp4.skipHostnameRequest },
  configLayer: ConfigLayer.number(s.layer),
}));
