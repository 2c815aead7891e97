/** The fault-test harness (real ZooKeeper and real replica processes). */
export {
  TestCluster,
  connectCoordinator,
  fetchJson,
  makeTempDir,
  startCluster,
  uniqueChroot,
  useZooKeeper,
  waitFor,
  type AgreedLeader,
  type ClusterOptions,
} from './cluster.js';
export { expectNoSplitBrain } from './cluster-invariants.js';
export { SplitBrainPoller, type SplitBrainViolation } from './split-brain-poller.js';
export { HeartbeatMonitor, type HeartbeatViolation } from './heartbeat-monitor.js';
export { runThales, type CliResult } from './cli.js';
