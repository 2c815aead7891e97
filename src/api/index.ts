/** The scheduler replica's HTTP (Koa) and gRPC APIs and their wire shapes. */
export type { ClusterStateView, LeaderView, ReplicaView } from './cluster-state.js';
export { ApiError, type ErrorCode } from './errors.js';
export {
  makeCoreRouter,
  makeHttpApp,
  startHttpServer,
  type HttpServerOptions,
  type SchedulerBackend,
} from './http-server.js';
export { startGrpcServer, type GrpcServerOptions } from './grpc-server.js';
export { TasksApi } from './tasks-api.js';
export { DeploysApi, type DeployIntentAnswer } from './deploys-api.js';
export { makeDeploysGrpcHandlers } from './deploys-grpc.js';
export { makeDeploysRouter } from './deploys-routes.js';
export {
  ScheduledTasksApi,
  type ScheduledTaskView,
  makeScheduledTasksRouter,
} from './scheduled-tasks-api.js';
export { toRequestParent, type RequestParent } from './request-parent.js';
export { VIEW_AGE_HEADER, makeTasksRouter, type AgentConnectivity } from './tasks-routes.js';
export { VIEW_AGE_KEY, makeTasksGrpcHandlers } from './tasks-grpc.js';
export {
  StateCache,
  type RequestChange,
  type StateChange,
  type TaskChange,
} from './state-cache.js';
