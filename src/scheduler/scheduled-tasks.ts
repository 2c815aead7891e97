/**
 * "Why is my task waiting": the instances the leader wants to launch and has not placed, with
 * the matcher's rejection counts from the last cycle that tried them. Kept in the leader's
 * memory only (docs/api.md, "Scheduled tasks"): it is rebuilt by the next cycle after a
 * takeover, and costs no ZooKeeper read or write. Pure: the launcher feeds it one cycle's
 * outcome and keeps the board it returns.
 */
import type { PendingTask, RejectionReason, TaskResources, UnplacedTask } from '../offers/index.js';

/** One instance waiting to be placed. */
export interface ScheduledTask {
  requestId: string;
  deployId: string;
  instanceNo: number;
  resources: TaskResources;
  /** When this leader first wanted it launched (ms since the epoch). */
  pendingSince: number;
  /** When a cycle last tried to place it. */
  lastTriedAt: number;
  /** Offers the matcher considered in that cycle (0: no usable agent was connected). */
  offers: number;
  /** Offers rejected per reason in that cycle (only non-zero counts). */
  rejections: Partial<Record<RejectionReason, number>>;
}

/** The board: instance key → its entry, in the order the cycle tried them. */
export type ScheduledBoard = ReadonlyMap<string, ScheduledTask>;

/** An empty board (nothing pending, or not leading yet). */
export const EMPTY_BOARD: ScheduledBoard = new Map();

/** What one cycle's matching left pending. */
export interface CycleOutcome {
  /** Every instance the cycle tried to place. */
  tried: readonly PendingTask[];
  /** Those it did not place, with their reasons. `'all'`: none was placed (no offers). */
  unplaced: readonly UnplacedTask[] | 'all';
  offers: number;
  now: number;
}

function keyOf(k: { requestId: string; deployId: string; instanceNo: number }): string {
  return `${k.requestId}/${k.deployId}/${k.instanceNo}`;
}

/**
 * The board after a cycle: exactly the instances it tried and did not place (a cycle tries
 * every instance the leader wants launched, so one left out is no longer wanted), keeping the
 * `pendingSince` of those already waiting.
 */
export function nextScheduledBoard(
  previous: ScheduledBoard,
  outcome: CycleOutcome,
): ScheduledBoard {
  const reasons = new Map<string, UnplacedTask['reasons']>();
  if (outcome.unplaced !== 'all') {
    for (const u of outcome.unplaced) reasons.set(keyOf(u.taskKey), u.reasons);
  }
  const board = new Map<string, ScheduledTask>();
  for (const task of outcome.tried) {
    const key = keyOf(task.key);
    const rejections = outcome.unplaced === 'all' ? {} : reasons.get(key);
    if (!rejections) continue;
    board.set(key, {
      ...task.key,
      resources: task.resources,
      pendingSince: previous.get(key)?.pendingSince ?? outcome.now,
      lastTriedAt: outcome.now,
      offers: outcome.offers,
      rejections: { ...rejections },
    });
  }
  return board;
}

/** The board's entries, of one request or all, oldest pending first. */
export function listScheduled(board: ScheduledBoard, requestId?: string): ScheduledTask[] {
  return [...board.values()]
    .filter((t) => requestId === undefined || t.requestId === requestId)
    .sort((a, b) => a.pendingSince - b.pendingSince || a.instanceNo - b.instanceNo);
}
