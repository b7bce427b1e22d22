import { ServiceSpec as PB } from '../../api/gen/resource/definitions/v1alpha1/v1alpha1.js';
import { define } from '../codec.js';
import { RuntimeNamespace } from '../namespaces.js';

export const ServiceType = 'Services.v1alpha1.talos.dev';

/** A service of the supervisor, as the resource store mirrors it (ID = service id). */
export interface ServiceSpec {
  running: boolean;
  healthy: boolean;
  unknown: boolean;
}

export const serviceDefinition = define<ServiceSpec, PB>(
  {
    type: ServiceType,
    defaultNamespace: RuntimeNamespace,
    aliases: ['svc'],
    printColumns: [
      { name: 'Running', jsonPath: '{.running}' },
      { name: 'Healthy', jsonPath: '{.healthy}' },
      { name: 'Health Unknown', jsonPath: '{.unknown}' },
    ],
  },
  PB,
  (s) => s,
);
