/**
 * The ZooKeeper-side checks (invariants 1, 3, 4) on synthetic histories: each test plants one
 * violation and proves the check catches it, next to a clean history it must pass.
 */
import { describe, expect, it } from 'vitest';
import { ActiveTasksCheck } from './active-tasks.js';
import { CHROOT, TxnBuilder, agentDoc, taskDoc } from './fixtures.js';
import { LeaderFencingCheck } from './leader-fencing.js';
import { replayAll } from './types.js';

function fencing(b: TxnBuilder): LeaderFencingCheck {
  const check = new LeaderFencingCheck();
  replayAll(b.txns, CHROOT, [check]);
  return check;
}

function tasks(b: TxnBuilder): ActiveTasksCheck {
  const check = new ActiveTasksCheck();
  replayAll(b.txns, CHROOT, [check]);
  return check;
}

const L0 = '/leader/latch-0000000000';
const L1 = '/leader/latch-0000000001';

describe('invariant 1: at most one leader’s writes land (synthetic histories)', () => {
  it('passes a failover in which the deposed leader’s latch is gone before the next term', () => {
    const b = new TxnBuilder()
      .leader(L0, 1, 'sA')
      .multi(L0, [{ create: '/tasks/active/r/r-d-1-1-a1', doc: taskDoc('r-d-1-1-a1') }], 'sA')
      .closeSession('sA', [L0])
      .leader(L1, 2, 'sB')
      .multi(L1, [{ set: '/leader/heartbeat', doc: { term: 2 } }], 'sB');
    const check = fencing(b);
    expect(check.violations).toEqual([]);
    expect(check.terms.map((t) => t.term)).toEqual([1, 2]);
    expect(check.fencedWrites).toBe(2);
  });

  it('catches a write of a deposed leader that landed after the next term was claimed', () => {
    const b = new TxnBuilder()
      .leader(L0, 1, 'sA')
      .leader(L1, 2, 'sB') // claimed while L0 still exists: a second, wrong election
      .multi(L0, [{ set: '/leader/heartbeat', doc: { term: 1 } }], 'sA');
    const checks = fencing(b).violations.map((v) => v.check);
    expect(checks).toContain('term-claimed-by-non-lowest-latch');
    expect(checks).toContain('write-of-non-leader-landed');
  });

  it('catches an unfenced write of a leader-only document, and a skipped term', () => {
    const b = new TxnBuilder()
      .leader(L0, 1, 'sA')
      .set('/tasks/active/r/r-d-1-1-a1', taskDoc('r-d-1-1-a1'))
      .closeSession('sA', [L0])
      .leader(L1, 3, 'sB');
    const checks = fencing(b).violations.map((v) => v.check);
    expect(checks).toEqual(['unfenced-leader-write', 'term-not-incremented']);
  });

  it('does not count a session’s ephemerals going away as a write', () => {
    const b = new TxnBuilder().leader(L0, 1, 'sA');
    b.multi(L0, [{ create: '/lb/groups/g/agents/lb1', doc: {} }], 'sA').closeSession('sA', [
      L0,
      '/lb/groups/g/agents/lb1',
    ]);
    expect(fencing(b).violations).toEqual([]);
  });
});

describe('invariants 3 and 4 on every ZooKeeper state (synthetic histories)', () => {
  const base = (): TxnBuilder =>
    new TxnBuilder()
      .leader(L0, 1, 'sA')
      .multi(L0, [{ create: '/agents/a1', doc: agentDoc(1) }], 'sA');

  it('passes a replacement that ends the old task before creating the new one', () => {
    const b = base()
      .multi(L0, [{ create: '/tasks/active/r/r-d-1-1-a1', doc: taskDoc('r-d-1-1-a1') }], 'sA')
      .multi(L0, [{ del: '/tasks/active/r/r-d-1-1-a1' }], 'sA')
      .multi(L0, [{ create: '/tasks/active/r/r-d-2-1-a1', doc: taskDoc('r-d-2-1-a1') }], 'sA');
    const check = tasks(b);
    expect(check.violations).toEqual([]);
    expect(check.timelines.get('r-d-1-1-a1')?.endedAt).toBeDefined();
  });

  it('catches two active tasks holding one instance number of one deploy', () => {
    const b = base()
      .multi(L0, [{ create: '/tasks/active/r/r-d-1-1-a1', doc: taskDoc('r-d-1-1-a1') }], 'sA')
      .multi(L0, [{ create: '/tasks/active/r/r-d-2-1-a1', doc: taskDoc('r-d-2-1-a1') }], 'sA');
    expect(tasks(b).violations.map((v) => v.check)).toEqual(['duplicate-active-instance']);
  });

  it('catches an agent over-committed, a port given twice and a port outside the ranges', () => {
    const b = base()
      .multi(
        L0,
        [
          {
            create: '/tasks/active/r/r-d-1-1-a1',
            doc: taskDoc('r-d-1-1-a1', { cpus: 0.6, ports: [150] }),
          },
        ],
        'sA',
      )
      .multi(
        L0,
        [
          {
            create: '/tasks/active/r/r-d-2-2-a1',
            doc: taskDoc('r-d-2-2-a1', { cpus: 0.6, instanceNo: 2, ports: [150, 300] }),
          },
        ],
        'sA',
      );
    expect(
      tasks(b)
        .violations.map((v) => v.check)
        .sort(),
    ).toEqual(['agent-over-committed', 'port-given-twice', 'port-outside-agent-ranges']);
  });

  it('records when a task ran, was told to die, and ended', () => {
    const id = 'r-d-1-1-a1';
    const b = base()
      .multi(
        L0,
        [{ create: `/tasks/active/r/${id}`, doc: taskDoc(id, { state: 'TASK_LAUNCHED' }) }],
        'sA',
      )
      .multi(L0, [{ set: `/tasks/active/r/${id}`, doc: taskDoc(id) }], 'sA')
      .multi(L0, [{ set: `/tasks/active/r/${id}`, doc: taskDoc(id, { killReason: 'api' }) }], 'sA')
      .multi(L0, [{ del: `/tasks/active/r/${id}` }], 'sA');
    const t = tasks(b).timelines.get(id);
    expect(t?.runningAt).toBeGreaterThan(t?.createdAt ?? Infinity);
    expect(t?.killDecidedAt).toBeGreaterThan(t?.runningAt ?? Infinity);
    expect(t?.endedAt).toBeGreaterThan(t?.killDecidedAt ?? Infinity);
  });
});
