/**
 * Step overhead from the product's own records (pure): a deploy's step k launches the new
 * instances ((k-1)·size, k·size] (src/deploys/deploy-goal.ts numbers them 1..target), so
 * from the stored tasks alone — `health.since` of the result that made each HEALTHY (the
 * agent's clock) and `startedAt`, the leader's launch time, set just before its fenced
 * commit and the Launch sent after it — the overhead of step k is the time from the last
 * new task of step k being healthy to the first launch of step k+1.
 */
import type { Task } from '../../src/state/index.js';

/** One step boundary. */
export interface StepBoundary {
  /** The step that ended (1-based). */
  step: number;
  /** When its last new task became healthy. */
  lastHealthyAt: number;
  /** Which task that was. */
  lastHealthyTask: string;
  /** When the next step's first launch went out. */
  nextLaunchAt: number;
  overheadMs: number;
}

/**
 * The boundaries between the steps of `deployId` (steps of `size` instances up to
 * `instances`). A number launched twice (a failed task replaced) counts its last task; a step
 * whose tasks are not all healthy yet is an error naming it (the figure would be a guess).
 */
export function stepBoundaries(
  tasks: readonly Task[],
  deployId: string,
  instances: number,
  size: number,
): StepBoundary[] {
  const byNumber = new Map<number, Task>();
  for (const t of tasks) {
    if (t.deployId !== deployId) continue;
    const known = byNumber.get(t.instanceNo);
    if (!known || t.startedAt > known.startedAt) byNumber.set(t.instanceNo, t);
  }
  const steps = Math.ceil(instances / size);
  const of = (k: number): Task[] => {
    const out: Task[] = [];
    for (let i = (k - 1) * size + 1; i <= Math.min(instances, k * size); i++) {
      const t = byNumber.get(i);
      if (!t) throw new Error(`deploy ${deployId}: no task for instance ${i} (step ${k})`);
      out.push(t);
    }
    return out;
  };
  const boundaries: StepBoundary[] = [];
  for (let k = 1; k < steps; k++) {
    let last: Task | undefined;
    for (const t of of(k)) {
      if (t.health?.status !== 'HEALTHY') {
        throw new Error(`${t.taskId} (step ${k}) is ${t.health?.status ?? 'without health'}`);
      }
      if (!last || t.health.since > (last.health?.since ?? 0)) last = t;
    }
    const nextLaunchAt = Math.min(...of(k + 1).map((t) => t.startedAt));
    const lastHealthyAt = last?.health?.since ?? 0;
    boundaries.push({
      step: k,
      lastHealthyAt,
      lastHealthyTask: last?.taskId ?? '',
      nextLaunchAt,
      overheadMs: nextLaunchAt - lastHealthyAt,
    });
  }
  return boundaries;
}
