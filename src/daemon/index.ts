/**
 * What every on-host daemon (agent, lb-agent, executor-cleanup) starts with: logger, metrics,
 * the ZooKeeper session and leader discovery, signal handling. It sits beside `runtime`
 * because it needs `coordination` and `leader`, which `runtime` may not import.
 */
export {
  DEFAULT_DAEMON_SESSION_TIMEOUT_MS,
  type Daemon,
  type DaemonOptions,
  type ZooKeeperSettings,
  startDaemon,
} from './daemon-bootstrap.js';
export { ZkLeaderDiscovery } from './zk-leader-discovery.js';
