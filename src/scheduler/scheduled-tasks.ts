/**
 * "Why is my task waiting": the instances the leader wants to launch and has not placed, with
 * the matcher's rejection counts from the last cycle that tried them. Kept in the leader's
 * memory only (docs/api.md, "Scheduled tasks"): it is rebuilt by the next cycle after a
 * takeover, and costs no ZooKeeper read or write. Pure: the launcher feeds it one cycle's
 * outcome and keeps the board it returns.
 */
import type { ScheduledTaskView } from '../api/index.js';
import { type PendingTask, type UnplacedTask, formatTaskKey } from '../offers/index.js';

/** The board: instance key → its entry, in the order the cycle tried them. */
export type ScheduledBoard = ReadonlyMap<string, ScheduledTaskView>;

/** An empty board (nothing pending, or not leading yet). */
export const EMPTY_BOARD: ScheduledBoard = new Map();

/** What one cycle's matching left pending. */
export interface CycleOutcome {
  /** Every instance the cycle tried to place. */
  tried: readonly PendingTask[];
  /** Those it did not place, with their reasons (none without offers). */
  unplaced: readonly UnplacedTask[];
  offers: number;
  now: number;
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
  for (const u of outcome.unplaced) reasons.set(formatTaskKey(u.taskKey), u.reasons);
  const board = new Map<string, ScheduledTaskView>();
  for (const task of outcome.tried) {
    const key = formatTaskKey(task.key);
    const rejections = reasons.get(key);
    if (!rejections) continue;
    board.set(key, {
      ...task.key,
      resources: task.resources,
      pendingSince: previous.get(key)?.pendingSince ?? outcome.now,
      lastTriedAt: outcome.now,
      offers: outcome.offers,
      rejections,
    });
  }
  return board;
}

/** The board's entries, oldest pending first (the API filters by request). */
export function listScheduled(board: ScheduledBoard): ScheduledTaskView[] {
  return [...board.values()].sort(
    (a, b) => a.pendingSince - b.pendingSince || a.instanceNo - b.instanceNo,
  );
}
