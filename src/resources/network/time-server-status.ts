import { TimeServerStatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const TimeServerStatusType = 'TimeServerStatuses.net.talos.dev';
export const TimeServerID = 'timeservers';

export interface TimeServerStatusSpec {
  timeServers: string[];
}

export const timeServerStatusDefinition = define<TimeServerStatusSpec, PB>(
  {
    type: TimeServerStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['timeserver', 'timeservers'],
    printColumns: [{ name: 'Timeservers', jsonPath: '{.timeServers}' }],
  },
  PB,
  (s) => ({ ntpServers: s.timeServers }),
);
