/** The on-host cleaner (`thales executor-cleanup`): see docs/executor-cleanup.md. */
export {
  makeCleanupPlan,
  safeModeReason,
  type CleanupAction,
  type CleanupPlan,
  type ClusterAnswer,
  type PlanPolicy,
  type SandboxSnapshot,
  type SkippedSandbox,
  type TaskProcess,
} from './cleanup-plan.js';
export {
  CleanupConfigError,
  EXECUTOR_CLEANUP_USAGE,
  parseCleanupArgs,
  parseDuration,
  type CleanupConfig,
} from './cleanup-config.js';
export { askCluster, type ClusterClientOptions } from './cluster-client.js';
export { makeCleanupMetrics, type CleanupMetrics } from './cleanup-metrics.js';
export { runCleanup, type CleanupRunOptions, type CleanupSummary } from './cleanup-runner.js';
export { PROM_FILE, SUMMARY_FILE, runExecutorCleanup } from './cleanup-command.js';
export {
  isCompressibleLog,
  processesOfTask,
  scanProcesses,
  scanSandbox,
  scanSandboxes,
  type ProcIndex,
} from './sandbox-scanner.js';
export { reapProcesses, type ReapOptions, type ReapResult } from './process-reaper.js';
export { compressLogs, type CompressResult } from './log-compressor.js';
