import { LinkStatusSpec as PB } from '../../api/gen/resource/definitions/network/network.js';
import { define } from '../codec.js';
import { NetworkNamespace } from '../namespaces.js';

export const LinkStatusType = 'LinkStatuses.net.talos.dev';

/** ARPHRD link types by Talos's names (the ones a node meets). */
export const LINK_TYPES: Readonly<Record<string, number>> = { netrom: 0, ether: 1, ppp: 512, tunnel: 768, tunnel6: 769, loopback: 772, sit: 776, ipgre: 778, ip6gre: 823, none: 65534, void: 65535 };
const OPER_STATES = ['unknown', 'notPresent', 'down', 'lowerLayerDown', 'testing', 'dormant', 'up'];
const IFF_NAMES = ['UP', 'BROADCAST', 'DEBUG', 'LOOPBACK', 'POINTTOPOINT', 'NOTRAILERS', 'RUNNING', 'NOARP', 'PROMISC', 'ALLMULTI', 'MASTER', 'SLAVE', 'MULTICAST', 'PORTSEL', 'AUTOMEDIA', 'DYNAMIC', 'LOWER_UP', 'DORMANT', 'ECHO'];

/** IFF flags as Talos writes them: `UP,BROADCAST,RUNNING,MULTICAST,LOWER_UP`. */
export const linkFlagsText = (flags: number) => IFF_NAMES.filter((_, i) => (flags & (1 << i)) !== 0).join(',');
const linkFlagsNumber = (text: string) => (text === '' ? 0 : text.split(',').reduce((acc, n) => acc | (1 << IFF_NAMES.indexOf(n)), 0));
const mac = (s: string) => Buffer.from(s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));

/** A link as the kernel has it; ID = the link name. */
export interface LinkStatusSpec {
  index: number;
  type: string;
  linkIndex: number;
  flags: string;
  hardwareAddr: string;
  broadcastAddr: string;
  mtu: number;
  queueDisc: string;
  masterIndex: number;
  operationalState: string;
  kind: string;
  slaveKind: string;
  linkState: boolean;
}

export const linkStatusDefinition = define<LinkStatusSpec, PB>(
  {
    type: LinkStatusType,
    defaultNamespace: NetworkNamespace,
    aliases: ['link', 'links'],
    printColumns: [
      { name: 'Type', jsonPath: '{.type}' },
      { name: 'Kind', jsonPath: '{.kind}' },
      { name: 'Hw Addr', jsonPath: '{.hardwareAddr}' },
      { name: 'Oper State', jsonPath: '{.operationalState}' },
      { name: 'Link State', jsonPath: '{.linkState}' },
    ],
  },
  PB,
  (s) => ({
    index: s.index,
    type: LINK_TYPES[s.type] ?? 0,
    linkIndex: s.linkIndex,
    flags: linkFlagsNumber(s.flags),
    hardwareAddr: mac(s.hardwareAddr),
    broadcastAddr: mac(s.broadcastAddr),
    mtu: s.mtu,
    queueDisc: s.queueDisc,
    masterIndex: s.masterIndex,
    operationalState: Math.max(0, OPER_STATES.indexOf(s.operationalState)),
    kind: s.kind,
    slaveKind: s.slaveKind,
    linkState: s.linkState,
  }),
);
