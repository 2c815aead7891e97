/** ZooKeeper coordination: session, chrooted typed operations, watches and caches. */
export {
  Coordinator,
  FenceRejectedError,
  type CoordinatorEvents,
  type CoordinatorOptions,
  type CreateMode,
  type Fence,
  type Watcher,
  type ZNode,
  type ZkOp,
} from './coordinator.js';
export { ZkSession, type ConnectionState } from './zk-session.js';
export { ZkError, ZK_RETRY_POLICY, toZkError, type ZkErrorCode } from './zk-errors.js';
export {
  CodecError,
  MAX_ZNODE_BYTES,
  SCHEMA_VERSION,
  decodeJson,
  encodeJson,
} from './json-codec.js';
export { zkPaths, latchSequence, isValidChroot, PERSISTENT_DIRS } from './zk-paths.js';
export { watchNode, watchChildren, type Unwatch } from './node-watch.js';
export { TreeCache, type TreeCacheEvents } from './tree-cache.js';
export { linearizableBarrier } from './read-barrier.js';
