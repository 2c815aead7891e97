/**
 * The deploy's failure rules (pure): new tasks that fail count once each against
 * `maxTaskRetries`; a cancel, too many failures, or a step overdue past
 * `deployHealthTimeoutSeconds` start the rollback, which records the result the deploy will
 * end with once the old tasks serve again.
 */
import {
  type DeployFailure,
  type DeployProgress,
  MAX_DEPLOY_FAILURES,
  isTerminal,
} from '../state/index.js';
import { isFresh, isLive, isReady, isServing } from './deploy-goal.js';
import type { DeploySnapshot, DeployTaskView } from './deploy-plan-types.js';

/** Forward only: counts new tasks that failed, and turns cancel and overdue into rollbacks. */
export function checkForward(p: DeployProgress, snap: DeploySnapshot): DeployProgress {
  if (snap.cancel) {
    const message = snap.cancel.message ?? 'canceled';
    return startRollback(
      p,
      'CANCELED',
      message,
      [{ reason: 'DEPLOY_CANCELLED', message }],
      snap.now,
    );
  }
  let next = countFailures(p, snap);
  if (next.failedDeployTasks.length > snap.settings.maxTaskRetries) {
    const message =
      `${next.failedDeployTasks.length} new task(s) failed, more than maxTaskRetries ` +
      `(${snap.settings.maxTaskRetries})`;
    return startRollback(next, 'FAILED', message, [], snap.now);
  }
  if (!next.stepComplete && snap.now >= next.stepStartedAt + snap.settings.deployHealthTimeoutMs) {
    const message =
      `step ${next.step} did not complete within deployHealthTimeoutSeconds ` +
      `(${snap.settings.deployHealthTimeoutMs / 1000} s)`;
    next = startRollback(next, 'OVERDUE', message, overdueFailures(next, snap, message), snap.now);
  }
  return next;
}

/** New tasks that ended badly or turned unhealthy count once each (Singularity's set). */
function countFailures(p: DeployProgress, snap: DeploySnapshot): DeployProgress {
  const counted = new Set(p.failedDeployTasks);
  const added: DeployFailure[] = [];
  for (const t of snap.tasks) {
    if (counted.has(t.taskId) || !isFresh(t, snap)) continue;
    const failure = failureOf(t);
    if (!failure) continue;
    counted.add(t.taskId);
    added.push(failure);
  }
  if (added.length === 0) return p;
  return {
    ...p,
    failedDeployTasks: [...counted],
    deployFailures: [...p.deployFailures, ...added].slice(-MAX_DEPLOY_FAILURES),
  };
}

function failureOf(t: DeployTaskView): DeployFailure | undefined {
  const taskId = t.taskId;
  if (t.state === 'TASK_FINISHED') {
    return {
      reason: 'TASK_EXPECTED_RUNNING_FINISHED',
      taskId,
      message: 'exited while it should run',
    };
  }
  // TASK_LOST is not counted: the agent was lost, not the deploy's fault (like a KILLED
  // task, it is replaced); a deploy over a flaky fleet would otherwise roll back for nothing.
  if (t.state === 'TASK_FAILED') {
    return { reason: 'TASK_FAILED_ON_STARTUP', taskId, message: `ended ${t.state}` };
  }
  if (!isTerminal(t.state) && !t.killing && t.health === 'UNHEALTHY') {
    return { reason: 'TASK_FAILED_HEALTH_CHECKS', taskId, message: 'reported unhealthy' };
  }
  return undefined;
}

function overdueFailures(
  p: DeployProgress,
  snap: DeploySnapshot,
  message: string,
): DeployFailure[] {
  const out: DeployFailure[] = [{ reason: 'DEPLOY_OVERDUE', message }];
  for (const t of snap.tasks) {
    if (!isFresh(t, snap) || !isLive(t) || isServing(t, snap)) continue;
    if (t.state !== 'TASK_RUNNING') {
      out.push({ reason: 'TASK_NEVER_ENTERED_RUNNING', taskId: t.taskId, message: t.state });
    } else if (!isReady(t, snap)) {
      out.push({
        reason: 'TASK_FAILED_HEALTH_CHECKS',
        taskId: t.taskId,
        message: 'not healthy in time',
      });
    } else {
      out.push({
        reason: 'LOAD_BALANCER_UPDATE_FAILED',
        taskId: t.taskId,
        message: 'not in the load balancer in time',
      });
    }
  }
  return out.slice(0, MAX_DEPLOY_FAILURES);
}

export function startRollback(
  p: DeployProgress,
  deployState: 'FAILED' | 'CANCELED' | 'OVERDUE',
  message: string,
  failures: DeployFailure[],
  now: number,
): DeployProgress {
  return {
    ...p,
    phase: 'ROLLING_BACK',
    currentDeployState: deployState === 'CANCELED' ? 'CANCELING' : 'WAITING',
    rollback: { deployState, message, startedAt: now },
    deployFailures: [...p.deployFailures, ...failures].slice(-MAX_DEPLOY_FAILURES),
    lbRetryAt: null,
    lbConsecutiveFailures: 0,
  };
}
