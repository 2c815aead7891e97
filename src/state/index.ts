/**
 * The desired and actual state model (requests, deploys, tasks, agents, intents): zod schemas
 * shared by the HTTP and gRPC APIs, and the ZooKeeper stores. Imported by src/api and
 * src/scheduler; imports neither.
 */
export { StateError, type StateErrorCode } from './state-error.js';
export { parseId, parseInput, formatPath } from './validation.js';
export {
  REQUEST_STATES,
  REQUEST_TYPES,
  actionInputSchema,
  deployIdSchema,
  isLongRunning,
  requestIdSchema,
  requestInputSchema,
  requestRecordSchema,
  scaleInputSchema,
  toRequest,
  type Request,
  type RequestInput,
  type RequestRecord,
  type RequestState,
  type RequestType,
} from './request-model.js';
export {
  DEPLOY_DEFAULTS,
  DEPLOY_LB_FIELDS,
  MAX_DEPLOY_BYTES,
  deployInputSchema,
  deployRequestInputSchema,
  deploySchema,
  deploySettings,
  resourcesInputSchema,
  taskHealthcheckSpec,
  toDeploy,
  type Deploy,
  type DeployInput,
  type DeploySettings,
  type Resources,
} from './deploy-model.js';
export { checkDeployForRequest } from './deploy-validation.js';
export {
  HEALTHCHECK_DEFAULTS,
  HEALTHCHECK_METHODS,
  HEALTHCHECK_PROTOCOLS,
  healthcheckInputSchema,
  healthcheckSchema,
  toHealthcheck,
  toHealthcheckSpec,
  type Healthcheck,
  type HealthcheckInput,
  type HealthcheckProtocol,
  type HealthcheckSpecPlain,
} from './healthcheck-model.js';
export {
  DEPLOY_FIELDS_NOT_ACTED_ON,
  REQUEST_FIELDS_NOT_ACTED_ON,
  deployWarnings,
  requestWarnings,
  type FieldWarning,
} from './field-warnings.js';
export {
  DEPLOY_FAILURE_REASONS,
  DEPLOY_STATES,
  FINAL_DEPLOY_STATES,
  MAX_DEPLOY_FAILURES,
  deployFailureSchema,
  deployResultSchema,
  isFinalDeployState,
  type DeployFailure,
  type DeployFailureReason,
  type DeployResult,
  type DeployState,
  type FinalDeployState,
} from './deploy-result-model.js';
export {
  DEPLOY_PHASES,
  DEPLOY_PROGRESS_KINDS,
  deployLbOpSchema,
  deployProgressSchema,
  toPendingDeployState,
  type PendingDeployStateView,
  writeDeployProgressOp,
  type DeployLbOp,
  type DeployPhase,
  type DeployProgress,
} from './deploy-progress-model.js';
export { finishDeployOps } from './deploy-finish-ops.js';
export {
  MAX_TASK_UPDATES,
  TASK_STATES,
  isTaskState,
  isTerminal,
  makeTaskId,
  taskIdSchema,
  taskSchema,
  toTaskJson,
  withUpdate,
  type Task,
  type TaskState,
  type TaskUpdate,
} from './task-model.js';
export {
  recordedCause,
  taskCleanupSchema,
  withCleanup,
  type KillCause,
  type TaskCleanup,
  type TaskCleanupType,
} from './task-cleanup.js';
export {
  HEALTH_STATUSES,
  MAX_HEALTHCHECK_BODY,
  MAX_HEALTHCHECK_RESULTS,
  healthcheckResultSchema,
  taskHealthSchema,
  withHealthcheckResult,
  type HealthStatus,
  type HealthcheckResult,
  type TaskHealth,
} from './task-health.js';
export {
  AGENT_ADMIN_STATES,
  DEFAULT_RACK,
  agentIdSchema,
  agentRecordSchema,
  toAgentJson,
  type AgentAdminState,
  type AgentRecord,
} from './agent-model.js';
export { STATE_DIRS, statePaths, type DeployKind, type IntentKind } from './state-paths.js';
export {
  childrenOrEmpty,
  ensureStateDirs,
  readChildren,
  readJson,
  toData,
  toStateError,
  type Versioned,
} from './zk-json-store.js';
export { RequestStore } from './request-store.js';
export {
  DeployIntentStore,
  bounceInputSchema,
  bounceIntentSchema,
  deployAdvanceIntentSchema,
  deployCancelInputSchema,
  deployCancelIntentSchema,
  deployUpdateInputSchema,
  type BounceIntent,
  type DeployAdvanceIntent,
  type DeployCancelIntent,
} from './deploy-intents.js';
export { DeployStore, promoteDeployOps, type RequestDeploys } from './deploy-store.js';
export {
  MAX_HISTORY_PER_REQUEST,
  TaskStore,
  createActiveTaskOp,
  endTaskOps,
  removeHistoryOp,
  setActiveTaskOp,
} from './task-store.js';
export { AgentStore, writeAgentOp } from './agent-store.js';
export { IntentStore, killIntentSchema, removeIntentOp, type KillIntent } from './intent-store.js';
export {
  CacheLagError,
  WatchedState,
  treesCaughtUp,
  type WatchedStateEvents,
} from './watched-state.js';
