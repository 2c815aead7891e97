import { z } from 'zod';
import type { ZkOp } from '../coordination/index.js';
import {
  FINAL_DEPLOY_STATES,
  deployFailureSchema,
  deployResultSchema,
} from './deploy-result-model.js';
import { statePaths } from './state-paths.js';
import { toData } from './zk-json-store.js';

/** A deploy replaces the previous deploy's tasks; a bounce replaces the deploy's own tasks. */
export const DEPLOY_PROGRESS_KINDS = ['DEPLOY', 'BOUNCE'] as const;

/** Where a deploy is: stepping forward, rolling back, or ended (with its result). */
export const DEPLOY_PHASES = ['DEPLOYING', 'ROLLING_BACK', 'DONE'] as const;
/** One of {@link DEPLOY_PHASES}. */
export type DeployPhase = (typeof DEPLOY_PHASES)[number];

/** The load-balancer request a deploy has in flight (one at a time, like the LB manager). */
export const deployLbOpSchema = z.object({
  lbRequestId: z.string(),
  /** Task ids whose upstreams the request adds. */
  add: z.array(z.string()),
  /** Task ids whose upstreams the request removes. */
  remove: z.array(z.string()),
  submittedAt: z.number(),
});
/** A deploy's load-balancer request in flight. */
export type DeployLbOp = z.infer<typeof deployLbOpSchema>;

/**
 * `/deploys/<requestId>/progress`: what the leader has decided about the request's deploy (or
 * bounce) in progress, written (fenced) whenever a decision changes, so a new leader resumes
 * at the same step. Singularity's `SingularityDeployProgress` fields, plus what a resumable
 * step needs: when the step started and completed, the failures counted, the load-balancer
 * request in flight, and the cause of a rollback. Everything else (which tasks run, are
 * healthy, are in the load balancer) is read from the cluster each time, not copied here.
 */
export const deployProgressSchema = z.object({
  kind: z.enum(DEPLOY_PROGRESS_KINDS),
  requestId: z.string(),
  deployId: z.string(),
  /** DEPLOY: the active deploy when it started (null: the request's first deploy). */
  previousDeployId: z.string().nullable(),
  /** BOUNCE: the tasks being replaced, as they were when it started. */
  replacing: z.array(z.string()),
  phase: z.enum(DEPLOY_PHASES),
  currentDeployState: z.enum(['WAITING', 'CANCELING', ...FINAL_DEPLOY_STATES]),
  /** 1-based step number. */
  step: z.number(),
  targetActiveInstances: z.number(),
  currentActiveInstances: z.number(),
  deployInstanceCountPerStep: z.number(),
  deployStepWaitTimeMs: z.number(),
  autoAdvanceDeploySteps: z.boolean(),
  stepComplete: z.boolean(),
  stepStartedAt: z.number(),
  stepCompletedAt: z.number().nullable(),
  /** New tasks counted as failures (Singularity's set: a task counts once). */
  failedDeployTasks: z.array(z.string()),
  deployFailures: z.array(deployFailureSchema),
  lbOp: deployLbOpSchema.nullable(),
  /** Load-balancer requests issued so far (each gets a fresh id from this count). */
  lbRequests: z.number(),
  /** While rolling back, a failed load-balancer request is retried after this time. */
  lbRetryAt: z.number().nullable(),
  lbConsecutiveFailures: z.number(),
  /** Why it rolls back: the result it ends with once the old tasks serve again. */
  rollback: z
    .object({
      deployState: z.enum(['FAILED', 'CANCELED', 'OVERDUE']),
      message: z.string(),
      startedAt: z.number(),
    })
    .nullable(),
  deployResult: deployResultSchema.nullable(),
  startedAt: z.number(),
  /**
   * BOUNCE: the `at` of the intent it was started from, its marker's timestamp, so the asker
   * (`request bounce --wait`) knows its own bounce from an earlier one. Absent: written before.
   */
  askedAt: z.number().optional(),
  timestamp: z.number(),
});
/** A deploy's persisted progress. */
export type DeployProgress = z.infer<typeof deployProgressSchema>;

/** Op writing a request's progress document (leader, fenced; it is the only writer). */
export function writeDeployProgressOp(progress: DeployProgress, create: boolean): ZkOp {
  const path = statePaths.deployProgress(progress.requestId);
  const data = toData(progress, path);
  return create ? { op: 'create', path, data } : { op: 'set', path, data, version: -1 };
}

/**
 * Singularity's `pendingDeployState` view of a progress document, for the request answer:
 * the marker, the state, and the step counts (its type is {@link PendingDeployStateView}).
 */
export function toPendingDeployState(progress: DeployProgress) {
  return {
    deployMarker: {
      requestId: progress.requestId,
      deployId: progress.deployId,
      timestamp: progress.askedAt ?? progress.startedAt,
    },
    kind: progress.kind,
    currentDeployState: progress.currentDeployState,
    phase: progress.phase,
    step: progress.step,
    deployProgress: {
      targetActiveInstances: progress.targetActiveInstances,
      currentActiveInstances: progress.currentActiveInstances,
      deployInstanceCountPerStep: progress.deployInstanceCountPerStep,
      deployStepWaitTimeMs: progress.deployStepWaitTimeMs,
      stepComplete: progress.stepComplete,
      autoAdvanceDeploySteps: progress.autoAdvanceDeploySteps,
      failedDeployTasks: progress.failedDeployTasks,
      timestamp: progress.timestamp,
    },
    ...(progress.deployResult ? { deployResult: progress.deployResult } : {}),
  };
}

/** The request answer's `pendingDeployState`. */
export type PendingDeployStateView = ReturnType<typeof toPendingDeployState>;
