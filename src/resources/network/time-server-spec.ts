import { TimeServerSpecSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { ConfigLayer, type ConfigLayerName, define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const TimeServerSpecType = 'TimeServerSpecs.net.talos.dev';

export interface TimeServerSpecSpec {
  timeServers: string[];
  layer: ConfigLayerName;
}

export const timeServerSpecDefinition = define<TimeServerSpecSpec, PB>(
  { type: TimeServerSpecType, defaultNamespace: NetworkNamespace },
  PB,
  (s) => ({ ntpServers: s.timeServers, configLayer: ConfigLayer.number(s.layer) }),
);
