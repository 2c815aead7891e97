/**
 * Which tasks a deploy keeps, launches and retires at its current step (pure). Forward, a
 * step keeps `targetActiveInstances` new tasks and `instances - target` old ones; in a
 * rollback it keeps the previous deploy at full count (a bounce: the deploy's own tasks on
 * numbers 1..instances). Everything else alive is retired: out of the load balancer, then
 * killed — the machine decides when (deploy-state-machine.ts).
 */
import { isTerminal } from '../state/index.js';
import type { DeploySnapshot, DeployTaskView, LaunchAction } from './deploy-plan-types.js';

/** What the current step aims at. */
export interface DeployGoal {
  /** Tasks meant to serve once the step is done. */
  keep: DeployTaskView[];
  /** The new generation's part of `keep` (forward steps; empty in a rollback). */
  keepFresh: DeployTaskView[];
  launches: LaunchAction[];
  /** Live tasks to take out of the load balancer and kill (unhealthy ones first). */
  retire: DeployTaskView[];
  /**
   * Tasks ended or being killed (by anyone) that may still be in the load balancer: their
   * upstreams go at once (they serve nothing; a kill from elsewhere is not the deploy's).
   */
  gone: DeployTaskView[];
  /** Serving tasks that must remain through any retirement (the request's instances). */
  capacity: number;
}

/** Alive: not ended. Live: alive and not being killed. */
export const isAlive = (t: DeployTaskView): boolean => !isTerminal(t.state);
export const isLive = (t: DeployTaskView): boolean => isAlive(t) && !t.killing;
const isSick = (t: DeployTaskView): boolean => isLive(t) && t.health === 'UNHEALTHY';

/** Running and healthy (or, skipping health checks, running and not known unhealthy). */
export function isReady(t: DeployTaskView, snap: DeploySnapshot): boolean {
  if (!isLive(t) || t.state !== 'TASK_RUNNING') return false;
  return snap.settings.skipHealthchecksOnDeploy ? t.health !== 'UNHEALTHY' : t.health === 'HEALTHY';
}

/** Ready and, for a load-balanced request, in the load balancer on every lb-agent. */
export function isServing(t: DeployTaskView, snap: DeploySnapshot): boolean {
  return isReady(t, snap) && (!snap.loadBalanced || t.lb === 'ALL');
}

/** Whether a task belongs to the generation the deploy brings in. */
export function isFresh(t: DeployTaskView, snap: DeploySnapshot): boolean {
  const p = snap.progress;
  return t.deployId === p.deployId && !(p.kind === 'BOUNCE' && p.replacing.includes(t.taskId));
}

/** The goal of the step the progress is at. */
export function goalOf(snap: DeploySnapshot): DeployGoal {
  const gone = snap.tasks.filter((t) => !isLive(t) && t.lb !== 'NONE');
  const goal = snap.progress.phase === 'ROLLING_BACK' ? rollbackGoal(snap) : forwardGoal(snap);
  return { ...goal, gone };
}

function byNumber(a: DeployTaskView, b: DeployTaskView): number {
  return a.instanceNo - b.instanceNo || (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0);
}

/** Instance numbers from 1 up to `max` that no alive task of `deployId` holds. */
function freeNumbers(snap: DeploySnapshot, deployId: string, max: number): number[] {
  const held = new Set(
    snap.tasks.filter((t) => t.deployId === deployId && isAlive(t)).map((t) => t.instanceNo),
  );
  const out: number[] = [];
  for (let i = 1; i <= max; i++) if (!held.has(i)) out.push(i);
  return out;
}

function launches(deployId: string, numbers: readonly number[]): LaunchAction[] {
  return numbers.map((instanceNo) => ({ kind: 'launch', deployId, instanceNo }));
}

function forwardGoal(snap: DeploySnapshot): Omit<DeployGoal, 'gone'> {
  const p = snap.progress;
  const n = snap.instances;
  const target = Math.min(n, p.targetActiveInstances);
  const failed = new Set(p.failedDeployTasks);
  const live = snap.tasks.filter(isLive);
  const retire = live.filter(isSick);
  const fresh = live.filter((t) => isFresh(t, snap) && !isSick(t) && !failed.has(t.taskId));
  retire.push(...live.filter((t) => isFresh(t, snap) && !isSick(t) && failed.has(t.taskId)));
  const prior = live.filter((t) => !isFresh(t, snap) && !isSick(t));

  // The old tasks to keep serving at this step: the best ones (strays of other deploys and
  // numbers above the count go first; among the rest, one already out of the load balancer
  // goes before one still serving, so a retirement in progress is not switched mid-way).
  const keepPriorCount = Math.max(0, n - target);
  const isStray = (t: DeployTaskView): boolean =>
    p.kind === 'DEPLOY' ? t.deployId !== p.previousDeployId : !p.replacing.includes(t.taskId);
  const rank = (t: DeployTaskView): number[] => [
    isStray(t) ? 1 : 0,
    t.instanceNo > n ? 1 : 0,
    isServing(t, snap) ? 0 : 1,
    -t.instanceNo,
  ];
  const ranked = [...prior].sort((a, b) => compareRanks(rank(a), rank(b)) || byNumber(a, b));
  const keepPrior = ranked.slice(0, keepPriorCount);
  retire.push(...ranked.slice(keepPriorCount));

  const plan: LaunchAction[] = [];
  const keepFresh: DeployTaskView[] = [];
  if (p.kind === 'DEPLOY') {
    // New tasks hold numbers 1..target; any other new task is extra.
    const taken = new Set<number>();
    for (const t of [...fresh].sort(byNumber)) {
      if (t.instanceNo <= target && !taken.has(t.instanceNo)) {
        taken.add(t.instanceNo);
        keepFresh.push(t);
      } else retire.push(t);
    }
    const free = freeNumbers(snap, p.deployId, target).filter((i) => !taken.has(i));
    plan.push(...launches(p.deployId, free));
    // Old instances that vanished meanwhile come back, so capacity holds through the steps.
    const prev = p.previousDeployId;
    const missing = keepPriorCount - keepPrior.length;
    if (prev !== null && missing > 0) {
      plan.push(...launches(prev, freeNumbers(snap, prev, n).slice(0, missing)));
    }
  } else {
    // A bounce's new tasks share the deploy's numbers with the old ones: they take free
    // numbers up to the count, and only when none is about to free up, one above it (the
    // last step gives those back).
    const want = target + Math.max(0, keepPriorCount - keepPrior.length);
    const sorted = [...fresh].sort(byNumber);
    keepFresh.push(...sorted.slice(0, want));
    retire.push(...sorted.slice(want));
    plan.push(...launches(p.deployId, bounceNumbers(snap, n, want - keepFresh.length)));
  }
  return { keep: [...keepFresh, ...keepPrior], keepFresh, launches: plan, retire, capacity: n };
}

function bounceNumbers(snap: DeploySnapshot, n: number, count: number): number[] {
  if (count <= 0) return [];
  const p = snap.progress;
  const within = freeNumbers(snap, p.deployId, n);
  if (within.length >= count) return within.slice(0, count);
  const freeing = snap.tasks.some(
    (t) => t.deployId === p.deployId && isAlive(t) && t.instanceNo <= n && !isLive(t),
  );
  if (freeing) return within;
  const above = freeNumbers(snap, p.deployId, 2 * n + count).filter((i) => i > n);
  return [...within, ...above].slice(0, count);
}

function rollbackGoal(snap: DeploySnapshot): Omit<DeployGoal, 'gone'> {
  const p = snap.progress;
  const n = snap.instances;
  // The generation restored: the previous deploy's tasks, or a bounce's deploy's own.
  const restored = p.kind === 'BOUNCE' ? p.deployId : p.previousDeployId;
  const live = snap.tasks.filter(isLive);
  const keep: DeployTaskView[] = [];
  const taken = new Set<number>();
  const retire: DeployTaskView[] = [];
  for (const t of [...live].sort(byNumber)) {
    const keeps =
      t.deployId === restored && !isSick(t) && t.instanceNo <= n && !taken.has(t.instanceNo);
    if (keeps) {
      taken.add(t.instanceNo);
      keep.push(t);
    } else retire.push(t);
  }
  retire.sort((a, b) => Number(!isSick(a)) - Number(!isSick(b)));
  const plan =
    restored === null
      ? []
      : launches(
          restored,
          freeNumbers(snap, restored, n).filter((i) => !taken.has(i)),
        );
  return { keep, keepFresh: [], launches: plan, retire, capacity: restored === null ? 0 : n };
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
