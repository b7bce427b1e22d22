import { linkFlagsText, type LinkStatusSpec, LinkStatusType } from '../../resources/network/link-status.js';
import type { Rtnl } from '../../sys/netlink/rtnl.js';
import { KernelMirrorController } from './kernel-mirror.js';

/** LinkStatus per kernel link (ID = link name), kept up to date from rtnetlink notifications. */
export class LinkStatusController extends KernelMirrorController<LinkStatusSpec> {
  readonly name = 'network.LinkStatusController';
  protected readonly type = LinkStatusType;

  protected async read(nl: Rtnl) {
    return (await nl.links()).map((l) => ({
      id: l.name,
      spec: {
        index: l.index,
        type: l.type,
        linkIndex: l.linkIndex,
        flags: linkFlagsText(l.flags),
        hardwareAddr: l.hardwareAddr,
        broadcastAddr: l.broadcastAddr,
        mtu: l.mtu,
        queueDisc: l.queueDisc,
        masterIndex: l.masterIndex,
        operationalState: l.operState,
        kind: l.kind ?? '',
        slaveKind: '',
        linkState: l.carrier,
      },
    }));
  }
}
