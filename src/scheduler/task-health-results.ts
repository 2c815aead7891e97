/**
 * The leader side of agent health checks: a status update carrying a health-check result
 * records it on the task (Singularity's `healthcheckResults`, bounded) without changing the
 * task's state. The status writer calls {@link applyStatusTransition} for every update.
 */
import type { HealthcheckResult__Output } from '../gen/thales/v1/HealthcheckResult.js';
import {
  HEALTH_STATUSES,
  type HealthStatus,
  type HealthcheckResult,
  type Task,
  type TaskUpdate,
  isTerminal,
  withHealthcheckResult,
  withUpdate,
} from '../state/index.js';

/** The result an agent's status update carries, or undefined (a plain state change). */
export function toHealthcheckResult(
  msg: HealthcheckResult__Output | null | undefined,
): HealthcheckResult | undefined {
  if (!msg || !(HEALTH_STATUSES as readonly string[]).includes(msg.health)) return undefined;
  const result: HealthcheckResult = {
    durationMillis: msg.durationMs,
    timestamp: msg.atMs || Date.now(),
    startup: msg.startup,
    health: msg.health as HealthStatus,
  };
  if (msg.hasStatusCode) result.statusCode = msg.statusCode;
  if (msg.errorMessage) result.errorMessage = msg.errorMessage;
  if (msg.responseBody) result.responseBody = msg.responseBody;
  return result;
}

/**
 * The task after one transition, or null when there is nothing to write: an ended task
 * changes no more; a health result is recorded on a live task whatever its state field says;
 * a state change that repeats the current state is dropped (ends are always written).
 */
export function applyStatusTransition(
  current: Task,
  update: TaskUpdate,
  health: HealthcheckResult | undefined,
): Task | null {
  if (isTerminal(current.state)) return null;
  if (health) return withHealthcheckResult(current, health);
  if (current.state === update.state && !isTerminal(update.state)) return null;
  return withUpdate(current, update);
}
