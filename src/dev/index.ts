/**
 * Local clusters for `thales dev`, the test harness and the benchmarks: ZooKeeper and Thales
 * processes, simulated agents, synthetic offer scenarios. No product component imports it.
 */
export { findFreePort, findFreePortBlock, findFreePorts, isPortFree } from './free-port.js';
export { ZooKeeperCluster, ZooKeeperServer, resolveZooKeeperJar } from './zookeeper-process.js';
export { ThalesProcess, repoRoot, thalesCliPath } from './thales-process.js';
export { type ProcessExit } from './process-exit.js';
export {
  startSchedulerReplicas,
  type LocalReplica,
  type LocalReplicasOptions,
} from './scheduler-cluster.js';
export { runDevCluster, type DevClusterOptions } from './dev-cluster.js';
export { SimAgent, closeSimAgentChannels, type SimAgentOptions } from './sim-agent.js';
export { makeScenario } from './offer-scenario.js';
