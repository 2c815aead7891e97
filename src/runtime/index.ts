/**
 * Runtime plumbing shared by every daemon (scheduler replicas, agents, lb-agents, the cleaner):
 * proto loading, gRPC and HTTP server basics, the reconnecting stream client to the leader,
 * the error-code registry, retry policies and atomic files. It imports no other Thales component, so on-host daemons can use it without
 * pulling in the API layer.
 */
export {
  type AtomicWriteOptions,
  fsyncDir,
  readJsonOrUndefined,
  replaceFileAtomic,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic-file.js';
export {
  CodedError,
  ERROR_STATUS,
  type ErrorCode,
  type HasCodedForm,
  toCodedError,
  toGrpcError,
} from './error-codes.js';
export { detach } from './detach.js';
export { mapBounded } from './map-bounded.js';
export { MAX_BODY_BYTES, MAX_BODY_DEPTH, readJsonBody } from './body-reader.js';
export { devApiUrlsFile, devClusterDir } from './dev-cluster-file.js';
export { bindGrpcServer, stopGrpcServer, whenStreamCloses } from './grpc-server.js';
export { malformedReason, withTolerantDecoding, type MalformedRequest } from './grpc-malformed.js';
export { closeHttpServer, errorAnswers, listen } from './http-server.js';
export { loadProto, protoDir, PROTO_LOADER_OPTIONS } from './proto-loader.js';
export { fixedLeaderDiscovery, type LeaderDiscovery } from './leader-discovery.js';
export {
  DEFAULT_ESTABLISH_TIMEOUT_MS,
  LEADER_KEEPALIVE,
  type KeepaliveSettings,
  ReconnectingStream,
  type ReconnectingStreamOptions,
  type StreamHandle,
  type StreamProtocol,
  type TermFence,
} from './reconnecting-stream.js';
export {
  Backoff,
  RETRY_POLICIES,
  RETRYABLE_ERRORS,
  type RetryPolicyName,
  type RetryPolicySpec,
  isRetryableError,
  retryPolicy,
} from './retry-policy.js';
