/** The HTTP (Koa) and gRPC APIs, the error registry, and the wire shapes. */
export type { ClusterStateView, LeaderView, ReplicaView } from './cluster-state.js';
export { ApiError, ERROR_STATUS, toApiError, type ErrorCode } from './errors.js';
export {
  closeHttpServer,
  listen,
  makeHttpApp,
  startHttpServer,
  type HttpServerOptions,
  type SchedulerBackend,
} from './http-server.js';
export {
  startGrpcServer,
  stopGrpcServer,
  whenStreamCloses,
  type GrpcServerOptions,
} from './grpc-server.js';
export { loadProto, protoDir, PROTO_LOADER_OPTIONS } from './proto-loader.js';
export { MAX_BODY_BYTES, readJsonBody } from './body-reader.js';
export { TasksApi, type RequestParent } from './tasks-api.js';
export { makeTasksRouter, type AgentConnectivity } from './tasks-routes.js';
export { makeTasksGrpcHandlers, toTaskInfo, type TaskWatchSource } from './tasks-grpc.js';
export { malformedReason, withTolerantDecoding } from './grpc-malformed.js';
