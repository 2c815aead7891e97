import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AgentReconcileSnapshot,
  type ReconcileTask,
  planAgentReconcile,
} from '../../../src/scheduler/agent-reconcile-plan.js';
import { KILL_RESEND_MARGIN_MS } from '../../../src/scheduler/kill-policy.js';

const RUNNING_STATES = ['TASK_LAUNCHED', 'TASK_STARTING', 'TASK_RUNNING'];
const ENDED_STATES = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST'];
const NOW = 1_000_000;
const GRACE = { killGraceMs: 5_000, unreportedGraceMs: 10_000, relaunchAfterMs: 10_000 };

function snapshot(partial: Partial<AgentReconcileSnapshot>): AgentReconcileSnapshot {
  const active = partial.active ?? new Map<string, ReconcileTask>();
  return {
    agentId: 'a',
    reported: new Map(),
    fullReport: false,
    activeHere: [...active.values()].filter((t) => t.agentId === (partial.agentId ?? 'a')),
    active,
    killsSentAt: new Map(),
    launchesSentAt: new Map(),
    unreportedSince: new Map(),
    now: NOW,
    ...GRACE,
    ...partial,
  };
}

const task = (taskId: string, agentId = 'a', state = 'TASK_RUNNING'): ReconcileTask => ({
  taskId,
  agentId,
  state,
  startedAt: NOW - 60_000,
});

/** A random agent-side and leader-side picture of up to 12 task ids over agents a and b. */
const arbitrarySnapshot = fc
  .record({
    ids: fc.uniqueArray(fc.constantFrom(...'0123456789ab'.split('')), { maxLength: 12 }),
    seed: fc.array(
      fc.record({
        activeOn: fc.constantFrom<'a' | 'b' | null>('a', 'b', null),
        leaderState: fc.constantFrom(...RUNNING_STATES),
        reported: fc.option(fc.constantFrom(...RUNNING_STATES, ...ENDED_STATES), {
          nil: undefined,
        }),
        killReason: fc.option(fc.constant('killed through the API'), { nil: undefined }),
        killSentAgo: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        unreportedFor: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        launchedAgo: fc.integer({ min: 0, max: 20_000 }),
      }),
      { minLength: 12, maxLength: 12 },
    ),
    fullReport: fc.boolean(),
  })
  .map(({ ids, seed, fullReport }) => {
    const active = new Map<string, ReconcileTask>();
    const reported = new Map<string, string>();
    const killsSentAt = new Map<string, number>();
    const unreportedSince = new Map<string, number>();
    ids.forEach((id, i) => {
      const s = seed[i]!;
      if (s.activeOn) {
        active.set(id, {
          taskId: id,
          agentId: s.activeOn,
          state: s.leaderState,
          startedAt: NOW - s.launchedAgo,
          killReason: s.killReason,
        });
      }
      if (s.reported) reported.set(id, s.reported);
      if (s.killSentAgo !== undefined) killsSentAt.set(id, NOW - s.killSentAgo);
      if (s.unreportedFor !== undefined) unreportedSince.set(id, NOW - s.unreportedFor);
    });
    return snapshot({ active, reported, killsSentAt, unreportedSince, fullReport });
  });

describe('planAgentReconcile', () => {
  it('kills what runs on the agent but is not active there, and only that (besides persisted kills)', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snap) => {
        const plan = planAgentReconcile(snap);
        for (const k of plan.kill) {
          const active = snap.active.get(k.taskId);
          const state = snap.reported.get(k.taskId);
          expect(state === undefined || ENDED_STATES.includes(state)).toBe(false);
          if (k.reason === 'not active on this agent') expect(active?.agentId).not.toBe('a');
          else expect(active?.agentId === 'a' && active.killReason).toBeTruthy();
        }
        // Every live orphan is killed, unless its last Kill is not due again yet.
        for (const [taskId, state] of snap.reported) {
          if (ENDED_STATES.includes(state) || snap.active.get(taskId)?.agentId === 'a') continue;
          const sentAt = snap.killsSentAt.get(taskId);
          const due =
            sentAt === undefined || NOW - sentAt > GRACE.killGraceMs + KILL_RESEND_MARGIN_MS;
          expect(plan.kill.some((k) => k.taskId === taskId)).toBe(due);
        }
      }),
    );
  });

  it('marks LOST only active tasks the agent does not report and that are past TASK_LAUNCHED', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snap) => {
        const plan = planAgentReconcile(snap);
        for (const l of plan.lost) {
          const active = snap.active.get(l.taskId);
          expect(active?.agentId).toBe('a');
          expect(active?.state).not.toBe('TASK_LAUNCHED');
          expect(snap.reported.has(l.taskId)).toBe(false);
          const since = snap.unreportedSince.get(l.taskId);
          if (!snap.fullReport)
            expect(NOW - since!).toBeGreaterThanOrEqual(GRACE.unreportedGraceMs);
        }
        for (const id of plan.relaunch) {
          expect(snap.active.get(id)?.state).toBe('TASK_LAUNCHED');
          expect(snap.reported.has(id)).toBe(false);
        }
      }),
    );
  });

  it('gives each task at most one action, and accounts for every unreported active task', () => {
    fc.assert(
      fc.property(arbitrarySnapshot, (snap) => {
        const plan = planAgentReconcile(snap);
        const acted = [
          ...plan.kill.map((k) => k.taskId),
          ...plan.lost.map((l) => l.taskId),
          ...plan.relaunch,
          ...plan.unreported,
        ];
        expect(new Set(acted).size).toBe(acted.length);
        for (const t of snap.activeHere) {
          if (snap.reported.has(t.taskId) || t.state === 'TASK_LAUNCHED') continue;
          const handled =
            plan.lost.some((l) => l.taskId === t.taskId) || plan.unreported.includes(t.taskId);
          expect(handled).toBe(true);
        }
        // A complete report leaves nothing waiting for a grace.
        if (snap.fullReport) expect(plan.unreported).toEqual([]);
      }),
    );
  });

  it('the race of issue 10: reported during its LOST write, killed once the LOST has committed', () => {
    const t1 = task('t1');
    const t2 = task('t2');
    const reported = new Map([
      ['t1', 'TASK_RUNNING'],
      ['t2', 'TASK_RUNNING'],
    ]);
    // The registration's reconcile runs while the LOST write is in flight: still active.
    const during = planAgentReconcile(
      snapshot({
        reported,
        fullReport: true,
        active: new Map([
          ['t1', t1],
          ['t2', t2],
        ]),
      }),
    );
    expect(during).toEqual({ kill: [], lost: [], relaunch: [], unreported: [], forget: [] });
    // The LOST commits: the tasks leave the active set; the agent still runs them.
    const after = planAgentReconcile(snapshot({ reported }));
    expect(after.kill.map((k) => [k.taskId, k.reason])).toEqual([
      ['t1', 'not active on this agent'],
      ['t2', 'not active on this agent'],
    ]);
    // Once the agent reports them killed, they need no more tracking.
    const done = planAgentReconcile(
      snapshot({
        reported: new Map([
          ['t1', 'TASK_KILLED'],
          ['t2', 'TASK_KILLED'],
        ]),
        killsSentAt: new Map([
          ['t1', NOW],
          ['t2', NOW],
        ]),
      }),
    );
    expect(done).toMatchObject({ kill: [], forget: ['t1', 't2'] });
  });

  it('re-sends a kill persisted by an earlier leadership, and relaunches unacknowledged launches', () => {
    const killed = { ...task('k'), killReason: 'killed through the API' };
    const launched = { ...task('l', 'a', 'TASK_LAUNCHED'), startedAt: NOW - 11_000 };
    const fresh = { ...task('f', 'a', 'TASK_LAUNCHED'), startedAt: NOW - 1_000 };
    const plan = planAgentReconcile(
      snapshot({
        reported: new Map([['k', 'TASK_RUNNING']]),
        active: new Map([
          ['k', killed],
          ['l', launched],
          ['f', fresh],
        ]),
      }),
    );
    expect(plan.kill).toEqual([
      { taskId: 'k', reason: 'kill persisted before failover', message: 'killed through the API' },
    ]);
    expect(plan.relaunch).toEqual(['l']);
  });
});
