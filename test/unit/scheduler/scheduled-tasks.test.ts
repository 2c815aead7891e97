import { describe, expect, it } from 'vitest';
import type { PendingTask } from '../../../src/offers/index.js';
import {
  EMPTY_BOARD,
  listScheduled,
  nextScheduledBoard,
} from '../../../src/scheduler/scheduled-tasks.js';

const resources = { cpus: 64, memoryMb: 64, diskMb: 0, numPorts: 0 };
const task = (requestId: string, instanceNo: number): PendingTask => ({
  key: { requestId, deployId: 'd1', instanceNo },
  resources,
});

describe('the scheduled-task board (pure)', () => {
  it('holds exactly what a cycle tried and did not place, with its reasons', () => {
    const board = nextScheduledBoard(EMPTY_BOARD, {
      tried: [task('big', 1), task('small', 1)],
      unplaced: [{ taskKey: task('big', 1).key, reasons: { INSUFFICIENT_CPUS: 2 } }],
      offers: 2,
      now: 1_000,
    });
    expect(listScheduled(board)).toEqual([
      {
        requestId: 'big',
        deployId: 'd1',
        instanceNo: 1,
        resources,
        pendingSince: 1_000,
        lastTriedAt: 1_000,
        offers: 2,
        rejections: { INSUFFICIENT_CPUS: 2 },
      },
    ]);
  });

  it('keeps pendingSince across cycles and drops what is no longer tried', () => {
    const first = nextScheduledBoard(EMPTY_BOARD, {
      tried: [task('big', 1), task('big', 2)],
      // No offers: every instance unplaced, rejected by none.
      unplaced: [task('big', 1), task('big', 2)].map((t) => ({ taskKey: t.key, reasons: {} })),
      offers: 0,
      now: 1_000,
    });
    expect(listScheduled(first)).toHaveLength(2);
    const second = nextScheduledBoard(first, {
      tried: [task('big', 2)],
      unplaced: [{ taskKey: task('big', 2).key, reasons: { INSUFFICIENT_CPUS: 1 } }],
      offers: 1,
      now: 2_000,
    });
    const [only] = listScheduled(second);
    expect(listScheduled(second)).toHaveLength(1);
    expect(only).toMatchObject({ instanceNo: 2, pendingSince: 1_000, lastTriedAt: 2_000 });
  });
});
