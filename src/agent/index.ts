/** The task agent (`thales agent`) and the per-task executor (`thales executor`). */
export { Agent, type AgentOptions } from './agent.js';
export {
  AGENT_USAGE,
  AgentConfigError,
  parseAgentArgs,
  parsePortRanges,
  type AgentConfig,
} from './agent-config.js';
export { runAgent, executorArgv } from './agent-command.js';
export { EXECUTOR_USAGE, runExecutor, taskArgv, taskEnvironment } from './executor.js';
export {
  TASK_STATES,
  WorkDirLayout,
  isTerminal,
  readSandbox,
  type ExecutorJson,
  type HealthJson,
  type ExitJson,
  type KillJson,
  type ReportedJson,
  type SandboxFiles,
  type TaskJson,
  type TaskState,
} from './sandbox-layout.js';
export { StatusOutbox, type OutboxEntry } from './status-outbox.js';
export { AgentIdentityStore, generateAgentId, type AgentIdentity } from './agent-identity.js';
export {
  deriveTaskTransition,
  observeSandbox,
  finalStateOf,
  type TaskObservation,
  type TaskTransition,
} from './task-state.js';
export { decideTerm, type TermDecision } from './term-fence.js';
export { isProcessAlive, isProcessGroupAlive, parseProcStat, readProcStat } from './proc-stat.js';
export { resolveSandboxPath, readChunk, type FileChunk } from './sandbox-files.js';
export {
  DEFAULT_LOG_ROTATION,
  RotatingLogWriter,
  attachRotatingLogs,
  gzipFile,
  isUncompressedRotatedLog,
  logRotationFromEnv,
  type LogRotationOptions,
  type TaskLogs,
} from './log-rotator.js';
export { HealthChecker, type HealthCheckerOptions } from './health-checker.js';
export {
  onCheck,
  onClock,
  startTracking,
  startupDeadline,
  type AgentHealthStatus,
  type CheckOutcome,
  type HealthPolicySpec,
  type HealthReport,
  type HealthStep,
  type HealthTrack,
} from './health-policy.js';
export { runProbe, type ProbeTarget } from './health-probe.js';
