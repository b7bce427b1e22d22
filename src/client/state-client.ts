import { StateDefinition, StateService } from '../api/gen/cosi/state.js';
import { ClientBase, type ClientOptions } from './base.js';
import type { ServiceClient } from './rpc.js';

/**
 * A client of the COSI State service alone, with the calls and errors of `Client`: for apid and trustd, which read
 * machined's state over their socket and must not load the code of every other service.
 */
export class StateClient extends ClientBase {
  readonly cosi: ServiceClient<typeof StateService>;

  constructor(options: ClientOptions) {
    super(options);
    this.cosi = this.service(StateService, StateDefinition);
  }

  /** A plaintext client of the state served on a unix socket (machined's socket for apid or trustd). */
  static forSocket(path: string): StateClient {
    return new StateClient({ endpoints: [`unix://${path}`], tls: {} });
  }
}
