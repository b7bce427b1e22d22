import { ClusterServiceDefinition, ClusterServiceService } from '../api/gen/cluster/cluster.js';
import { StateDefinition, StateService } from '../api/gen/cosi/state.js';
import { InspectServiceDefinition, InspectServiceService } from '../api/gen/inspect/inspect.js';
import { DebugServiceDefinition, DebugServiceService } from '../api/gen/machine/debug.js';
import { ImageServiceDefinition, ImageServiceService } from '../api/gen/machine/image.js';
import { LifecycleServiceDefinition, LifecycleServiceService } from '../api/gen/machine/lifecycle.js';
import { MachineServiceDefinition, MachineServiceService } from '../api/gen/machine/machine.js';
import { StorageServiceDefinition, StorageServiceService } from '../api/gen/storage/storage.js';
import { TimeServiceDefinition, TimeServiceService } from '../api/gen/time/time.js';
import { ClientBase, type ClientOptions } from './base.js';
import type { ServiceClient } from './rpc.js';

export { type ClientOptions, MAX_MESSAGE_SIZE } from './base.js';

/**
 * A client of the Talos API (served by Bronze or by Talos): mTLS channels to one or more endpoints with failover,
 * `nodes`/`node` routing, and typed unary and streaming calls with deadlines and cancellation, for every service.
 */
export class Client extends ClientBase {
  readonly machine: ServiceClient<typeof MachineServiceService>;
  readonly cosi: ServiceClient<typeof StateService>;
  readonly inspect: ServiceClient<typeof InspectServiceService>;
  readonly storage: ServiceClient<typeof StorageServiceService>;
  readonly time: ServiceClient<typeof TimeServiceService>;
  readonly cluster: ServiceClient<typeof ClusterServiceService>;
  readonly image: ServiceClient<typeof ImageServiceService>;
  readonly lifecycle: ServiceClient<typeof LifecycleServiceService>;
  readonly debug: ServiceClient<typeof DebugServiceService>;

  constructor(options: ClientOptions) {
    super(options);
    this.machine = this.service(MachineServiceService, MachineServiceDefinition);
    this.cosi = this.service(StateService, StateDefinition);
    this.inspect = this.service(InspectServiceService, InspectServiceDefinition);
    this.storage = this.service(StorageServiceService, StorageServiceDefinition);
    this.time = this.service(TimeServiceService, TimeServiceDefinition);
    this.cluster = this.service(ClusterServiceService, ClusterServiceDefinition);
    this.image = this.service(ImageServiceService, ImageServiceDefinition);
    this.lifecycle = this.service(LifecycleServiceService, LifecycleServiceDefinition);
    this.debug = this.service(DebugServiceService, DebugServiceDefinition);
  }
}
