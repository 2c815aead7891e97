/**
 * What the deploy state machine sees and decides (deploy-state-machine.ts). The scheduler
 * loop builds a {@link DeploySnapshot} from its caches each cycle, calls `planDeploy`, persists
 * `plan.progress` when `plan.changed`, and carries out `plan.actions`.
 */
import type {
  DeployProgress,
  DeployResult,
  HealthStatus,
  KillCause,
  TaskState,
} from '../state/index.js';

/**
 * Where a task's upstream is, as the leader can know it: ALL — in the service as stored
 * (applied and acknowledged on every lb-agent of its groups) and no request open on it;
 * NONE — in no stored service and no open request; PARTIAL — anything in between (a request
 * adding or removing it is in flight, or failed with an agent whose revert failed), so some
 * lb-agent may route to it and another may not. See {@link lbPresence}.
 */
export type LbPresence = 'NONE' | 'PARTIAL' | 'ALL';

/** One task of the request, active or recently ended, as the machine sees it. */
export interface DeployTaskView {
  taskId: string;
  deployId: string;
  instanceNo: number;
  /** Terminal states included: the loop passes the deploy's tasks that ended since it began. */
  state: TaskState;
  /** The health its agent last reported; undefined until the first report. */
  health: HealthStatus | undefined;
  /** A kill was decided (the task holds its instance number until it ends). */
  killing: boolean;
  lb: LbPresence;
}

/** The outcome of a load-balancer request as the LB manager records it; absent: not known. */
export type LbRequestOutcome =
  'WAITING' | 'CANCELING' | 'SUCCESS' | 'FAILED' | 'CANCELED' | 'INVALID_REQUEST_NOOP';

/** The deploy's settings the machine reads each time (the deploy's, defaults filled in). */
export interface DeployMachineSettings {
  maxTaskRetries: number;
  deployHealthTimeoutMs: number;
  /** Do not wait for HEALTHY: a running task not reported UNHEALTHY is ready. */
  skipHealthchecksOnDeploy: boolean;
}

/** Everything one planning pass looks at; `now` is the only clock. */
export interface DeploySnapshot {
  now: number;
  progress: DeployProgress;
  /** The request's instance count now (a scale during a deploy is followed). */
  instances: number;
  loadBalanced: boolean;
  settings: DeployMachineSettings;
  /** Every task of the request: active ones, and the deploy's tasks that ended since it began. */
  tasks: readonly DeployTaskView[];
  /** Outcomes of the load-balancer requests this deploy issued, by request id. */
  lbRequests: ReadonlyMap<string, LbRequestOutcome>;
  /** `DELETE /api/deploys/deploy/{id}/request/{rid}` (or a bounce's cancel) was asked for. */
  cancel?: { message?: string };
  /** `POST /api/deploys/update`: go to the next step now (or to this target). */
  advance?: { targetActiveInstances?: number };
}

/** Launch a task of `deployId` holding `instanceNo` (level-triggered: re-planned until held). */
export interface LaunchAction {
  kind: 'launch';
  deployId: string;
  instanceNo: number;
}

/**
 * Submit a load-balancer request (idempotent by id: resubmitting returns the existing one).
 * `settingsFrom` names the deploy whose service settings (base path, groups, options) the
 * request carries: the new deploy while stepping forward, the previous one in a rollback.
 */
export interface LbAction {
  kind: 'lb';
  lbRequestId: string;
  add: string[];
  remove: string[];
  settingsFrom: string;
}

/** Kill a task: it is in no load balancer and no open request adds it. */
export interface KillAction {
  kind: 'kill';
  taskId: string;
  /** Why, as the task's record keeps it (`taskCleanup`): passed to the kill sender as is. */
  cause: KillCause;
}

/** The deploy ended: persist its one result (finishDeployOps), with the progress. */
export interface FinishAction {
  kind: 'finish';
  result: DeployResult;
}

/** One decision. */
export type DeployAction = LaunchAction | LbAction | KillAction | FinishAction;

/** The machine's answer to one snapshot. */
export interface DeployPlan {
  /** The progress after this pass; persist it (fenced) before acting when `changed`. */
  progress: DeployProgress;
  changed: boolean;
  actions: DeployAction[];
  /** When time alone can change the decision (step wait, overdue, LB retry); null: never. */
  wakeAt: number | null;
}
