import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClusterAnswer,
  type PlanPolicy,
  type SandboxSnapshot,
  makeCleanupPlan,
} from '../../../src/executor-cleanup/index.js';

const H = 3_600_000;
const policy: PlanPolicy = {
  retentionMs: 24 * H,
  failedRetentionMs: 7 * 24 * H,
  launchGraceMs: 60_000,
};
const now = 1_000 * H;
const ok = (ids: string[], agentState?: string): ClusterAnswer => ({
  kind: 'ok',
  replica: 'http://r1',
  activeTaskIds: new Set(ids),
  ...(agentState ? { agentState } : {}),
});
function sandbox(taskId: string, extra: Partial<SandboxSnapshot> = {}): SandboxSnapshot {
  return {
    taskId,
    launchedAt: now - 48 * H,
    exit: { finishedAt: now - 30 * H, state: 'TASK_FINISHED', exitCode: 0 },
    lastModifiedAt: now - 30 * H,
    processes: [],
    uncompressedLogs: [],
    ...extra,
  };
}
const proc = { pid: 42, startTime: 7, via: 'environ' as const };

describe('makeCleanupPlan (pure)', () => {
  it('deletes a finished sandbox past retention; keeps one within it; failed ones longer', () => {
    const plan = makeCleanupPlan(
      [
        sandbox('old'),
        sandbox('young', { exit: { finishedAt: now - H, state: 'TASK_FINISHED', exitCode: 0 } }),
        sandbox('failed', {
          exit: { finishedAt: now - 30 * H, state: 'TASK_FAILED', exitCode: 3 },
        }),
        sandbox('no-exit'),
        sandbox('failed-old', {
          exit: { finishedAt: now - 8 * 24 * H, state: 'TASK_LOST', exitCode: null },
        }),
      ].map((s) => (s.taskId === 'no-exit' ? { ...s, exit: undefined } : s)),
      ok([]),
      now,
      policy,
    );
    expect(plan.actions.map((a) => `${a.kind}:${a.taskId}`)).toEqual([
      'delete:old',
      'delete:failed-old',
    ]);
    expect(plan.skipped.map((s) => s.taskId).sort()).toEqual(['failed', 'no-exit', 'young']);
  });

  it('kills, then (retention 0) deletes without compressing first', () => {
    const s = sandbox('t', { processes: [proc], uncompressedLogs: ['stdout', 'stderr.1'] });
    const plan = makeCleanupPlan([s], ok(['other']), now, {
      ...policy,
      retentionMs: 0,
      failedRetentionMs: 0,
    });
    expect(plan.actions.map((a) => a.kind)).toEqual(['kill', 'delete']);
  });

  it('a killed task starts its retention now', () => {
    const plan = makeCleanupPlan([sandbox('t', { processes: [proc] })], ok(['x']), now, policy);
    expect(plan.actions.map((a) => a.kind)).toEqual(['kill']);
  });

  it('skips corrupt sandboxes and freshly launched ones with a reason', () => {
    const plan = makeCleanupPlan(
      [
        sandbox('bad', { problem: 'task.json is not valid JSON' }),
        sandbox('new', { launchedAt: now - 1_000, processes: [proc] }),
      ],
      ok(['x']),
      now,
      policy,
    );
    expect(plan.actions).toEqual([]);
    expect(plan.skipped).toEqual([
      { taskId: 'bad', reason: 'task.json is not valid JSON' },
      { taskId: 'new', reason: 'launched less than the launch grace ago' },
    ]);
  });

  it('safe mode: unreachable, malformed, or empty answer while tasks run → empty plan with a reason', () => {
    const running = [sandbox('a', { processes: [proc] }), sandbox('b')];
    const unreachable = makeCleanupPlan(
      running,
      { kind: 'unreachable', errors: ['r1: ECONNREFUSED'] },
      now,
      policy,
    );
    expect(unreachable.safeMode).toContain('ECONNREFUSED');
    const malformed = makeCleanupPlan(
      running,
      { kind: 'malformed', replica: 'r1', reason: '0.taskId: x' },
      now,
      policy,
    );
    expect(malformed.safeMode).toContain('malformed');
    const empty = makeCleanupPlan(running, ok([], 'ACTIVE'), now, policy);
    expect(empty.safeMode).toContain('not decommissioned');
    for (const p of [unreachable, malformed, empty]) expect(p.actions).toEqual([]);
  });

  it('an empty answer is believed for a decommissioned agent, or when nothing runs locally', () => {
    const running = [sandbox('a', { processes: [proc] })];
    expect(makeCleanupPlan(running, ok([], 'DECOMMISSIONING'), now, policy).actions[0]?.kind).toBe(
      'kill',
    );
    expect(makeCleanupPlan([sandbox('b')], ok([]), now, policy).actions[0]?.kind).toBe('delete');
  });
});

const arbSandbox = fc.record({
  taskId: fc.constantFrom('t1', 't2', 't3', 't4', 't5', 't6'),
  problem: fc.option(fc.constant('task.json is missing'), { nil: undefined }),
  launchedAt: fc.option(fc.integer({ min: now - 100 * H, max: now }), { nil: undefined }),
  exit: fc.option(
    fc.record({
      finishedAt: fc.integer({ min: now - 400 * H, max: now }),
      state: fc.constantFrom('TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST'),
      exitCode: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
    }),
    { nil: undefined },
  ),
  lastModifiedAt: fc.integer({ min: now - 400 * H, max: now }),
  processes: fc.array(
    fc.record({
      pid: fc.nat(),
      startTime: fc.nat(),
      via: fc.constantFrom('executor' as const, 'group' as const, 'environ' as const),
    }),
    { maxLength: 3 },
  ),
  uncompressedLogs: fc.subarray(['stdout', 'stderr', 'stdout.1', 'executor.log']),
});
const arbAnswer: fc.Arbitrary<ClusterAnswer> = fc.oneof(
  fc.record({
    kind: fc.constant('ok' as const),
    replica: fc.constant('r'),
    activeTaskIds: fc.subarray(['t1', 't2', 't3', 't4', 't5', 't6']).map((a) => new Set(a)),
    agentState: fc.option(
      fc.constantFrom('ACTIVE', 'FROZEN', 'DECOMMISSIONING', 'DECOMMISSIONED'),
      { nil: undefined },
    ),
  }),
  fc.record({ kind: fc.constant('unreachable' as const), errors: fc.array(fc.string()) }),
  fc.record({
    kind: fc.constant('malformed' as const),
    replica: fc.constant('r'),
    reason: fc.string(),
  }),
);
/** Sandbox dir names are unique. */
const sandboxesArb = fc.uniqueArray(arbSandbox, { selector: (s) => s.taskId, maxLength: 6 });
const arbPolicy = fc.record({
  retentionMs: fc.integer({ min: 0, max: 100 * H }),
  failedRetentionMs: fc.integer({ min: 0, max: 300 * H }),
  launchGraceMs: fc.integer({ min: 0, max: 10 * H }),
});

describe('makeCleanupPlan properties (fast-check)', () => {
  it('never plans anything for a task the cluster reports active (invariant 6)', () => {
    fc.assert(
      fc.property(sandboxesArb, arbAnswer, arbPolicy, (sbs, answer, pol) => {
        const plan = makeCleanupPlan(sbs, answer, now, pol);
        if (answer.kind !== 'ok') return plan.actions.length === 0;
        return plan.actions.every((a) => !answer.activeTaskIds.has(a.taskId));
      }),
      { numRuns: 2_000 },
    );
  });

  it('safe mode ⇒ empty plan; unreachable or malformed ⇒ safe mode', () => {
    fc.assert(
      fc.property(sandboxesArb, arbAnswer, arbPolicy, (sbs, answer, pol) => {
        const plan = makeCleanupPlan(sbs, answer, now, pol);
        if (answer.kind !== 'ok' && plan.safeMode === undefined) return false;
        return (
          plan.safeMode === undefined || (plan.actions.length === 0 && plan.skipped.length === 0)
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('no delete of a sandbox with live processes unless a kill comes first; none in retention or with a problem', () => {
    fc.assert(
      fc.property(sandboxesArb, arbAnswer, arbPolicy, (sbs, answer, pol) => {
        const plan = makeCleanupPlan(sbs, answer, now, pol);
        return plan.actions.every((a, i) => {
          if (a.kind !== 'delete') return true;
          const s = sbs.find((x) => x.taskId === a.taskId);
          if (!s || s.problem !== undefined) return false;
          if (s.launchedAt !== undefined && now - s.launchedAt < pol.launchGraceMs) return false;
          const killFirst = plan.actions
            .slice(0, i)
            .some((b) => b.kind === 'kill' && b.taskId === a.taskId);
          return s.processes.length === 0 || killFirst;
        });
      }),
      { numRuns: 2_000 },
    );
  });
});
