import { TimeServerID } from '../../resources/network/time-server-status.js';
import { type TimeServerSpecSpec, TimeServerSpecType } from '../../resources/network/time-server-spec.js';
import { ListMergeController } from './list-merge.js';

/**
 * Merges the layered TimeServerSpecs of `network-config` into `network/timeservers`: the highest layer wins
 * (default < cmdline < platform < operator < configuration); specs of the same layer add their servers up.
 */
export class TimeServerMergeController extends ListMergeController<TimeServerSpecSpec> {
  constructor() {
    super('network.TimeServerMergeController', TimeServerSpecType, TimeServerID, ['timeServers']);
  }
}
