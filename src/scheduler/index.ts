/** The scheduler replica: configuration, cluster view, and the leader control loops. */
export { loadSchedulerConfig, ConfigError, type SchedulerConfig } from './config.js';
export {
  startSchedulerReplica,
  type ReplicaContext,
  type ReplicaExtension,
  type ReplicaExtensionFactory,
  type SchedulerReplica,
} from './replica.js';
export { BUILD_INFO, THALES_VERSION, describeBuild, type BuildInfo } from './version.js';
export type {
  GatewayRequest,
  GatewayRequestState,
  GatewayService,
  GatewayServiceState,
  GatewayTouch,
  SchedulerLoadBalancer,
} from './load-balancer-gateway.js';
export { makeTasksExtensionFactory } from './tasks-extension.js';
export { DEFAULT_TASK_LEADER_OPTIONS, type TaskLeaderOptions } from './task-leader-context.js';
