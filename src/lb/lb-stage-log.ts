/**
 * In-process stage timestamps for the lb path (bench and debugging): a bounded ring of
 * `{ key, stage, at }`, `at` in wall-clock milliseconds with sub-millisecond precision
 * (`performance.timeOrigin + performance.now()`), so that the processes of one machine (bench,
 * replica, lb-agents) can be lined up. Cheap enough to stay on: one small object per mark.
 */
export interface StageMark {
  key: string;
  stage: string;
  at: number;
}

const CAPACITY = 20_000;

/** Wall-clock milliseconds, sub-millisecond precision. */
export function stageNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A bounded log of stage marks; the oldest are dropped first. */
export class StageLog {
  private marks: StageMark[] = [];

  mark(key: string, stage: string, at = stageNow()): void {
    this.marks.push({ key, stage, at });
    if (this.marks.length > CAPACITY * 1.5) this.marks = this.marks.slice(-CAPACITY);
  }

  /** Marks recorded at or after `since` (wall-clock ms). */
  since(since = 0): StageMark[] {
    return this.marks.filter((m) => m.at >= since);
  }
}

/** The leader side's log (one per process): keyed by request id. */
export const lbStageLog = new StageLog();
