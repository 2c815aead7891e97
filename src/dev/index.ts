/** Local clusters for `thales dev` and the test harness: ZooKeeper and Thales processes. */
export { findFreePort, findFreePorts } from './free-port.js';
export { ZooKeeperCluster, ZooKeeperServer, resolveZooKeeperJar } from './zookeeper-process.js';
export { ThalesProcess, repoRoot, thalesCliPath } from './thales-process.js';
export {
  startSchedulerReplicas,
  type LocalReplica,
  type LocalReplicasOptions,
} from './scheduler-cluster.js';
export { runDevCluster } from './dev-cluster.js';
