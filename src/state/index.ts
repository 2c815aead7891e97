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
  MAX_DEPLOY_BYTES,
  deployInputSchema,
  deployRequestInputSchema,
  deploySchema,
  resourcesInputSchema,
  toDeploy,
  type Deploy,
  type Resources,
} from './deploy-model.js';
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
  AGENT_ADMIN_STATES,
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
