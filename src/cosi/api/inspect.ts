import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Empty } from '../../api/gen/google/protobuf/empty.js';
import { type ControllerRuntimeDependenciesResponse, DependencyEdgeType, type InspectServiceServer } from '../../api/gen/inspect/inspect.js';
import type { ControllerRuntime } from '../controller/runtime.js';

const edgeTypes = {
  OUTPUT_EXCLUSIVE: DependencyEdgeType.OUTPUT_EXCLUSIVE,
  OUTPUT_SHARED: DependencyEdgeType.OUTPUT_SHARED,
  INPUT_STRONG: DependencyEdgeType.INPUT_STRONG,
  INPUT_WEAK: DependencyEdgeType.INPUT_WEAK,
  INPUT_DESTROY_READY: DependencyEdgeType.INPUT_DESTROY_READY,
} as const;

/** `inspect.InspectService`: the controller dependency graph, in one enveloped message. */
export function inspectService(runtime: ControllerRuntime): InspectServiceServer & UntypedServiceImplementation {
  return {
    controllerRuntimeDependencies(_call: ServerUnaryCall<Empty, ControllerRuntimeDependenciesResponse>, cb: sendUnaryData<ControllerRuntimeDependenciesResponse>) {
      const edges = runtime.dependencies().map((e) => ({ ...e, edgeType: edgeTypes[e.edgeType] }));
      cb(null, { messages: [{ metadata: undefined, edges }] });
    },
  };
}
