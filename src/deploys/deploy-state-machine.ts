/**
 * The pure deploy state machine: a snapshot of the request's tasks, their health and
 * load-balancer presence, and the persisted progress in; the next progress and the actions
 * to take out (a tagged union, like src/lb/lb-request-state-machine.ts). No I/O, no clock.
 *
 * It is level-triggered: every pass recomputes what should happen from what is, so a new
 * leader that reads the same progress resumes at the same step, and an action lost with a
 * leader is simply planned again. What cannot be recomputed — the step, when it started and
 * completed, the failures counted, the load-balancer request in flight, why it rolls back —
 * is in the progress document.
 *
 * Safety, by construction (and property-tested in test/unit/deploys):
 * - a task is added to the load balancer only when ready (running and healthy);
 * - a task is killed only when no lb-agent may route to it (presence NONE) and no open
 *   request of the deploy adds it;
 * - a serving task (ready and in the load balancer everywhere) is taken out only while at
 *   least `instances` other tasks serve — forward, only once the step's new tasks serve;
 * - the deploy ends with exactly one result: `finish` is planned once, with phase DONE.
 */
import type { DeployFailure, DeployProgress, DeployResult, KillCause } from '../state/index.js';
import { checkForward, startRollback } from './deploy-failures.js';
import { type DeployGoal, goalOf, isFresh, isLive, isReady, isServing } from './deploy-goal.js';
import { deployLbRequestId, isLbOutcomeFinal, lbRetryDelayMs } from './deploy-lb.js';
import type {
  DeployAction,
  DeployPlan,
  DeploySnapshot,
  DeployTaskView,
} from './deploy-plan-types.js';

/** Plans one pass over `snap`. */
export function planDeploy(snap: DeploySnapshot): DeployPlan {
  const start = snap.progress;
  if (start.phase === 'DONE') return { progress: start, changed: false, actions: [], wakeAt: null };
  const actions: DeployAction[] = [];
  let p = resolveLbOp(start, snap, actions);
  if (p.phase === 'DEPLOYING') p = checkForward(p, snap);
  // A step that completes leads straight into the next one, whose launches go out in the
  // same pass: no cycle is lost between steps (an explicit advance may also cut a step short,
  // so launches and kills planned twice are merged below). A few rounds at most.
  for (let round = 0; round < 4; round++) {
    const s: DeploySnapshot = { ...snap, progress: p };
    const goal = goalOf(s);
    const acted = act(s, goal, actions);
    const next = advance(acted, { ...s, progress: acted }, goal, actions);
    const stepped = next.step !== acted.step && next.phase === 'DEPLOYING';
    p = next;
    if (!stepped) break;
  }
  const changed = JSON.stringify(p) !== JSON.stringify(start);
  const progress = changed ? { ...p, timestamp: snap.now } : start;
  return { progress, changed, actions: distinct(actions), wakeAt: wakeAtOf(progress, snap) };
}

/** The in-flight request's outcome: cleared on SUCCESS; a failure fails a forward deploy. */
function resolveLbOp(
  p: DeployProgress,
  snap: DeploySnapshot,
  actions: DeployAction[],
): DeployProgress {
  const op = p.lbOp;
  if (!op) return p;
  const outcome = snap.lbRequests.get(op.lbRequestId);
  if (!isLbOutcomeFinal(outcome)) {
    // Not known yet (lost with a leader, or not seen yet): submitting again is idempotent.
    if (outcome === undefined) actions.push(lbAction(p, op.lbRequestId, op.add, op.remove));
    return p;
  }
  if (outcome === 'SUCCESS') return { ...p, lbOp: null, lbConsecutiveFailures: 0 };
  const message = `load-balancer request ${op.lbRequestId} ended ${outcome}`;
  if (p.phase === 'DEPLOYING') {
    const failure: DeployFailure = { reason: 'LOAD_BALANCER_UPDATE_FAILED', message };
    return startRollback({ ...p, lbOp: null }, 'FAILED', message, [failure], snap.now);
  }
  const failures = p.lbConsecutiveFailures + 1;
  return {
    ...p,
    lbOp: null,
    lbConsecutiveFailures: failures,
    lbRetryAt: snap.now + lbRetryDelayMs(failures),
  };
}

/**
 * Launches, one load-balancer request when none is in flight, and kills — within the
 * capacity rule: serving tasks may be retired only while `capacity` others serve (and,
 * forward, once the step's new tasks serve); tasks that do not serve may go at once.
 */
function act(snap: DeploySnapshot, goal: DeployGoal, actions: DeployAction[]): DeployProgress {
  let p = snap.progress;
  actions.push(...goal.launches);
  const serving = (t: DeployTaskView): boolean => isServing(t, snap);
  const totalServing = snap.tasks.filter((t) => isLive(t) && serving(t)).length;
  const freshServing = goal.keepFresh.filter(serving).length;
  const forward = p.phase === 'DEPLOYING';
  const stepTarget = Math.min(snap.instances, p.targetActiveInstances);
  const stepReady = !forward || freshServing >= stepTarget;
  let quota = stepReady ? Math.max(0, totalServing - goal.capacity) : 0;
  const mayRetire = (t: DeployTaskView): boolean => {
    if (!serving(t)) return true;
    if (quota <= 0) return false;
    quota--;
    return true;
  };
  const inFlightAdd = new Set(p.lbOp?.add ?? []);
  if (snap.loadBalanced && !p.lbOp && (p.lbRetryAt === null || snap.now >= p.lbRetryAt)) {
    const remove = [
      ...goal.gone,
      ...goal.retire.filter((t) => t.lb !== 'NONE' && mayRetire(t)),
    ].map((t) => t.taskId);
    const held = forward && holdsFreshAdds(snap, goal, totalServing, stepTarget);
    const add = goal.keep
      .filter((t) => isReady(t, snap) && t.lb !== 'ALL' && !(held && isFresh(t, snap)))
      .map((t) => t.taskId);
    if (remove.length > 0 || add.length > 0) {
      const n = p.lbRequests + 1;
      const lbRequestId = deployLbRequestId(p, n);
      p = {
        ...p,
        lbRequests: n,
        lbRetryAt: null,
        lbOp: { lbRequestId, add, remove, submittedAt: snap.now },
      };
      actions.push(lbAction(p, lbRequestId, add, remove));
    }
  }
  for (const t of goal.retire) {
    if (t.lb !== 'NONE' || inFlightAdd.has(t.taskId) || p.lbOp?.add.includes(t.taskId)) continue;
    if (!mayRetire(t)) continue;
    actions.push({ kind: 'kill', taskId: t.taskId, cause: retireReason(snap, t) });
  }
  return { ...p, currentActiveInstances: freshServing };
}

/**
 * Forward, while the old tasks keep the request at full count, a step's new tasks go into
 * the load balancer together, once all of them are ready (as Singularity's deploy checker
 * waits for the whole step): one request, where adding each wave of health results would
 * queue the last task behind the request in flight (one at a time) and cost the step a round
 * of both lb-agents. A shortfall (an old task died) is filled with whatever is ready at once.
 * Called forward only; `stepTarget` is the step's count of new tasks, as act computes it.
 */
function holdsFreshAdds(
  snap: DeploySnapshot,
  goal: DeployGoal,
  totalServing: number,
  stepTarget: number,
): boolean {
  if (totalServing < goal.capacity) return false;
  return goal.keepFresh.filter((t) => isReady(t, snap)).length < stepTarget;
}

/** Why a retired task is killed, as its record will keep it. */
function retireReason(snap: DeploySnapshot, t: DeployTaskView): KillCause {
  const p = snap.progress;
  if (t.health === 'UNHEALTHY') return { cleanupType: 'UNHEALTHY_NEW_TASK', message: 'unhealthy' };
  if (p.phase === 'ROLLING_BACK') {
    const cleanupType =
      p.rollback?.deployState === 'CANCELED' ? 'DEPLOY_CANCELED' : 'DEPLOY_FAILED';
    return { cleanupType, message: `deploy ${p.deployId} rolled back` };
  }
  if (isFresh(t, snap)) {
    return { cleanupType: 'INCOMPATIBLE_DEPLOY', message: `not needed by deploy ${p.deployId}` };
  }
  if (p.kind === 'BOUNCE') return { cleanupType: 'BOUNCING', message: 'bounced' };
  return { cleanupType: 'DEPLOY_STEP_FINISHED', message: `replaced by deploy ${p.deployId}` };
}

function lbAction(
  p: DeployProgress,
  lbRequestId: string,
  add: string[],
  remove: string[],
): DeployAction {
  const settingsFrom =
    p.phase === 'ROLLING_BACK' && p.kind === 'DEPLOY' && p.previousDeployId !== null
      ? p.previousDeployId
      : p.deployId;
  return { kind: 'lb', lbRequestId, add, remove, settingsFrom };
}

/** Step completion, the next step, the renumbering step of a bounce, and the end. */
function advance(
  p: DeployProgress,
  snap: DeploySnapshot,
  goal: DeployGoal,
  actions: DeployAction[],
): DeployProgress {
  const settled =
    goal.launches.length === 0 &&
    goal.retire.length === 0 &&
    goal.gone.length === 0 &&
    p.lbOp === null;
  if (p.phase === 'ROLLING_BACK') {
    const restored = goal.keep.filter((t) => isServing(t, snap)).length >= goal.capacity;
    if (!settled || !restored || !p.rollback) return p;
    return finish(
      p,
      {
        deployState: p.rollback.deployState,
        message: p.rollback.message,
        deployFailures: p.deployFailures,
        timestamp: snap.now,
      },
      actions,
    );
  }
  const n = snap.instances;
  const target = Math.min(n, p.targetActiveInstances);
  let next = p;
  if (!p.stepComplete && settled && p.currentActiveInstances >= target) {
    next = { ...p, stepComplete: true, stepCompletedAt: snap.now };
  }
  if (!next.stepComplete) return applyAdvance(next, snap);
  if (target >= n) {
    const surplus = snap.tasks.filter((t) => isFresh(t, snap) && isLive(t) && t.instanceNo > n);
    if (p.kind === 'BOUNCE' && surplus.length > 0) {
      // Give the numbers above the count back: one more step replaces those tasks.
      return nextStep(
        next,
        snap,
        target,
        surplus.map((t) => t.taskId),
      );
    }
    const message = next.kind === 'BOUNCE' ? 'bounce finished' : `deploy ${p.deployId} succeeded`;
    return finish(
      next,
      {
        deployState: 'SUCCEEDED',
        message,
        deployFailures: next.deployFailures,
        timestamp: snap.now,
      },
      actions,
    );
  }
  const waited = snap.now >= (next.stepCompletedAt ?? snap.now) + next.deployStepWaitTimeMs;
  if (next.autoAdvanceDeploySteps && waited) {
    return nextStep(next, snap, Math.min(n, target + next.deployInstanceCountPerStep), []);
  }
  return applyAdvance(next, snap);
}

/** An explicit advance (`POST /api/deploys/update`) moves to a higher target now. */
function applyAdvance(p: DeployProgress, snap: DeploySnapshot): DeployProgress {
  if (!snap.advance || p.phase !== 'DEPLOYING') return p;
  const n = snap.instances;
  const current = Math.min(n, p.targetActiveInstances);
  const wanted = snap.advance.targetActiveInstances ?? current + p.deployInstanceCountPerStep;
  const target = Math.min(n, Math.max(current + 1, wanted));
  if (target <= current) return p;
  return nextStep(p, snap, target, []);
}

function nextStep(
  p: DeployProgress,
  snap: DeploySnapshot,
  target: number,
  replacing: string[],
): DeployProgress {
  return {
    ...p,
    step: p.step + 1,
    targetActiveInstances: target,
    stepComplete: false,
    stepStartedAt: snap.now,
    stepCompletedAt: null,
    replacing: replacing.length > 0 ? [...p.replacing, ...replacing] : p.replacing,
  };
}

function finish(p: DeployProgress, result: DeployResult, actions: DeployAction[]): DeployProgress {
  actions.push({ kind: 'finish', result });
  return { ...p, phase: 'DONE', currentDeployState: result.deployState, deployResult: result };
}

/** The actions without repeats (the same launch or kill planned by two rounds). */
function distinct(actions: DeployAction[]): DeployAction[] {
  const seen = new Set<string>();
  return actions.filter((a) => {
    const key =
      a.kind === 'launch'
        ? `launch ${a.deployId} ${a.instanceNo}`
        : a.kind === 'kill'
          ? `kill ${a.taskId}`
          : a.kind === 'lb'
            ? `lb ${a.lbRequestId}`
            : 'finish';
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function wakeAtOf(p: DeployProgress, snap: DeploySnapshot): number | null {
  const times: number[] = [];
  if (p.phase === 'DEPLOYING' && !p.stepComplete) {
    times.push(p.stepStartedAt + snap.settings.deployHealthTimeoutMs);
  }
  if (p.phase === 'DEPLOYING' && p.stepComplete && p.autoAdvanceDeploySteps) {
    times.push((p.stepCompletedAt ?? snap.now) + p.deployStepWaitTimeMs);
  }
  if (p.lbRetryAt !== null) times.push(p.lbRetryAt);
  const future = times.filter((t) => t > snap.now);
  return future.length > 0 ? Math.min(...future) : null;
}
