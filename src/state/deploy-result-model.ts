import { z } from 'zod';

/** Singularity's `DeployState`: WAITING and CANCELING while it runs, the others final. */
export const DEPLOY_STATES = [
  'SUCCEEDED',
  'FAILED_INTERNAL_STATE',
  'CANCELING',
  'WAITING',
  'OVERDUE',
  'FAILED',
  'CANCELED',
] as const;
/** One of {@link DEPLOY_STATES}. */
export type DeployState = (typeof DEPLOY_STATES)[number];

/** The states a deploy ends in (Singularity's `isDeployFinished`). */
export const FINAL_DEPLOY_STATES = [
  'SUCCEEDED',
  'FAILED_INTERNAL_STATE',
  'OVERDUE',
  'FAILED',
  'CANCELED',
] as const;
/** One of {@link FINAL_DEPLOY_STATES}. */
export type FinalDeployState = (typeof FINAL_DEPLOY_STATES)[number];

/** Whether a deploy in this state has ended. */
export function isFinalDeployState(state: DeployState): state is FinalDeployState {
  return (FINAL_DEPLOY_STATES as readonly string[]).includes(state);
}

/** Singularity's `SingularityDeployFailureReason`. */
export const DEPLOY_FAILURE_REASONS = [
  'TASK_FAILED_ON_STARTUP',
  'TASK_FAILED_HEALTH_CHECKS',
  'TASK_COULD_NOT_BE_SCHEDULED',
  'TASK_NEVER_ENTERED_RUNNING',
  'TASK_EXPECTED_RUNNING_FINISHED',
  'DEPLOY_CANCELLED',
  'DEPLOY_OVERDUE',
  'FAILED_TO_SAVE_DEPLOY_STATE',
  'LOAD_BALANCER_UPDATE_FAILED',
  'PENDING_DEPLOY_REMOVED',
] as const;
/** One of {@link DEPLOY_FAILURE_REASONS}. */
export type DeployFailureReason = (typeof DEPLOY_FAILURE_REASONS)[number];

/** Singularity's `SingularityDeployFailure`: why, and which task if it was one. */
export const deployFailureSchema = z.object({
  reason: z.enum(DEPLOY_FAILURE_REASONS),
  taskId: z.string().optional(),
  message: z.string().optional(),
});
/** One failure of a deploy. */
export type DeployFailure = z.infer<typeof deployFailureSchema>;

/** Singularity's `SingularityDeployResult`, the one outcome every deploy ends with. */
export const deployResultSchema = z.object({
  deployState: z.enum(FINAL_DEPLOY_STATES),
  message: z.string().optional(),
  deployFailures: z.array(deployFailureSchema),
  timestamp: z.number(),
});
/** A deploy's result. */
export type DeployResult = z.infer<typeof deployResultSchema>;

/** Failures kept in a result or a progress document (the rest are counted in the message). */
export const MAX_DEPLOY_FAILURES = 50;
