export { type ServiceContext, which } from './context.js';
export { resourceCondition, timeSyncCondition, networkReadyCondition, type NetworkReadiness } from './conditions.js';
export { containerdService, systemContainerdAddress } from './containerd.js';
export { criService, criContainerdAddress } from './cri.js';
export { etcdService, EtcdSpecType, EtcdSpecID } from './etcd.js';
export { kubeletService } from './kubelet.js';
export { udevdService } from './udevd.js';
export { grpcHealth, grpcHealthCheck, GrpcHealthChecker } from './grpc-health.js';
