import { z } from 'zod';

/**
 * Why a task was killed: Singularity's `TaskCleanupType` names, for the kinds of kill Thales
 * decides. UNHEALTHY (a task that turned unhealthy outside a deploy and is replaced),
 * REQUEST_FINISHED and RECONCILIATION (an agent runs a task the leader does not know as
 * active there) are Thales' own.
 */
export const TASK_CLEANUP_TYPES = [
  'USER_REQUESTED',
  'BOUNCING',
  'SCALING_DOWN',
  'DECOMMISSIONING',
  'UNHEALTHY_NEW_TASK',
  'UNHEALTHY',
  'INCOMPATIBLE_DEPLOY',
  'NEW_DEPLOY_SUCCEEDED',
  'DEPLOY_STEP_FINISHED',
  'DEPLOY_FAILED',
  'DEPLOY_CANCELED',
  'PAUSING',
  'REQUEST_DELETING',
  'REQUEST_FINISHED',
  'RECONCILIATION',
] as const;
/** One of {@link TASK_CLEANUP_TYPES}. */
export type TaskCleanupType = (typeof TASK_CLEANUP_TYPES)[number];

/**
 * A task's kill as its record keeps it (Singularity's `taskCleanup`): set once, when the
 * leader sends the kill, so `GET /api/tasks/task/{id}` and the task's history say why it ended.
 */
export const taskCleanupSchema = z.object({
  cleanupType: z.enum(TASK_CLEANUP_TYPES),
  message: z.string(),
  timestamp: z.number(),
});
/** A task's kill, as recorded. */
export type TaskCleanup = z.infer<typeof taskCleanupSchema>;

/** A kill as decided: its type and a message for people. */
export interface KillCause {
  cleanupType: TaskCleanupType;
  message: string;
}

/**
 * `task` with `cause` recorded as its cleanup at `at`, unless one is recorded already (then
 * `task` itself): the first cause is why the task ends, set once.
 */
export function withCleanup<T extends { taskCleanup?: TaskCleanup | undefined }>(
  task: T,
  cause: KillCause,
  at: number,
): T {
  return task.taskCleanup ? task : { ...task, taskCleanup: { ...cause, timestamp: at } };
}

/** The cause recorded on `task`, else `fallback` (a kill sent again keeps the first cause). */
export function recordedCause(
  task: { taskCleanup?: TaskCleanup | undefined } | undefined,
  fallback: KillCause,
): KillCause {
  const recorded = task?.taskCleanup;
  return recorded ? { cleanupType: recorded.cleanupType, message: recorded.message } : fallback;
}
