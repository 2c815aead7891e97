import { z } from 'zod';

/** A task's health as its agent last reported it. */
export const HEALTH_STATUSES = ['STARTING', 'HEALTHY', 'UNHEALTHY'] as const;
/** One of {@link HEALTH_STATUSES}. */
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/**
 * One health-check result, with the fields of Singularity's `SingularityTaskHealthcheckResult`
 * (`statusCode`, `durationMillis`, `timestamp`, `responseBody`, `errorMessage`, `startup`)
 * and the health it left the task in.
 */
export const healthcheckResultSchema = z.object({
  statusCode: z.number().optional(),
  durationMillis: z.number(),
  timestamp: z.number(),
  responseBody: z.string().optional(),
  errorMessage: z.string().optional(),
  startup: z.boolean(),
  health: z.enum(HEALTH_STATUSES),
});
/** One stored health-check result. */
export type HealthcheckResult = z.infer<typeof healthcheckResultSchema>;

/** The task's current health and since when. */
export const taskHealthSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  since: z.number(),
});
/** A task's current health. */
export type TaskHealth = z.infer<typeof taskHealthSchema>;

/** Results kept per task, newest first (agents report changes and failures, not every check). */
export const MAX_HEALTHCHECK_RESULTS = 10;
/** Characters of a response body kept per result (Singularity keeps 8 KB; znodes stay small). */
export const MAX_HEALTHCHECK_BODY = 512;

/** What a task needs to carry health: its results and current health (both optional on disk). */
interface WithHealth {
  healthcheckResults?: HealthcheckResult[] | undefined;
  health?: TaskHealth | undefined;
}

/**
 * The task with one more result: prepended (newest first, as Singularity lists them), the
 * list bounded to {@link MAX_HEALTHCHECK_RESULTS}, the body cut to {@link MAX_HEALTHCHECK_BODY},
 * and `health` moved to the result's health when it changed. Pure.
 */
export function withHealthcheckResult<T extends WithHealth>(task: T, result: HealthcheckResult): T {
  const bounded: HealthcheckResult =
    result.responseBody !== undefined && result.responseBody.length > MAX_HEALTHCHECK_BODY
      ? { ...result, responseBody: result.responseBody.slice(0, MAX_HEALTHCHECK_BODY) }
      : result;
  const results = [bounded, ...(task.healthcheckResults ?? [])].slice(0, MAX_HEALTHCHECK_RESULTS);
  const health: TaskHealth =
    task.health?.status === result.health
      ? task.health
      : { status: result.health, since: result.timestamp };
  return { ...task, healthcheckResults: results, health };
}
