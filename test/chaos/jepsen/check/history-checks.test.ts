/**
 * The history-, sample- and final-state checks (invariants 2, 3, 4, 5, 6, 7 and lost
 * acknowledged writes) on synthetic histories: each test plants one violation and proves the
 * check catches it, next to a clean history it must pass.
 */
import { describe, expect, it } from 'vitest';
import type { SandboxTask } from '../observe/agent-sampler.js';
import { checkAckedWrites, registerCandidates } from './acked-writes.js';
import { ActiveTasksCheck } from './active-tasks.js';
import { checkAgentSamples } from './agent-samples.js';
import { checkCleanupSafety } from './cleanup-safety.js';
import { CHROOT, TxnBuilder, agentDoc, op, taskDoc } from './fixtures.js';
import { checkHostileInput } from './hostile-input.js';
import { runChecks } from './index.js';
import { checkLbRouting } from './lb-routing.js';
import { replayAll } from './types.js';
import { WriteIndex } from './write-index.js';

const L0 = '/leader/latch-0000000000';

function acked(b: TxnBuilder, ops: Parameters<typeof checkAckedWrites>[0]) {
  const writes = new WriteIndex();
  const tree = replayAll(b.txns, CHROOT, [writes]);
  return checkAckedWrites(ops, writes, tree);
}

const request = (instances: number, state = 'ACTIVE') => ({
  request: { id: 'svc', instances },
  state,
});

describe('the register model of acknowledged writes', () => {
  const w = (value: number, invoke: number, complete: number, outcome: 'ok' | 'info' | 'fail') => ({
    op: op('scale', invoke, complete, outcome),
    value,
  });

  it('allows only the last acknowledged value when writes do not overlap', () => {
    expect([...registerCandidates([w(1, 0, 10, 'ok'), w(2, 20, 30, 'ok')], 0)]).toEqual([2]);
  });

  it('allows either of two overlapping acknowledged writes, and any unknown-outcome write', () => {
    const c = registerCandidates([w(1, 0, 30, 'ok'), w(2, 10, 20, 'ok'), w(3, 40, 50, 'info')], 0);
    expect([...c].sort()).toEqual([1, 2, 3]);
  });

  it('ignores failed writes and keeps the initial value when nothing was acknowledged', () => {
    expect([...registerCandidates([w(5, 0, 10, 'fail'), w(6, 20, 30, 'info')], 0)].sort()).toEqual([
      0, 6,
    ]);
  });
});

describe('acknowledged writes are never lost (synthetic histories)', () => {
  it('passes a scale that landed and survived', () => {
    const b = new TxnBuilder().create('/requests/svc', request(1));
    const t1 = b.time;
    b.set('/requests/svc', request(3));
    const ops = [
      op('create', t1 - 20, t1 + 5, 'ok', { requestId: 'svc', value: 1 }),
      op('scale', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 3 }),
    ];
    expect(acked(b, ops)).toEqual({ violations: [], lost: 0 });
  });

  it('catches an acknowledged scale that was never committed', () => {
    const b = new TxnBuilder().create('/requests/svc', request(1));
    const ops = [
      op('create', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 1 }),
      op('scale', b.time + 100, b.time + 200, 'ok', { requestId: 'svc', value: 3 }),
    ];
    const r = acked(b, ops);
    expect(r.violations.map((v) => v.check)).toEqual(['scale-lost', 'scale-lost']);
    expect(r.lost).toBe(2); // never committed, and not in the final state
  });

  it('catches an acknowledged scale overwritten later by nobody the client knows', () => {
    const b = new TxnBuilder().create('/requests/svc', request(1));
    const ops = [op('create', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 1 })];
    b.wait(100).set('/requests/svc', request(3));
    ops.push(op('scale', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 3 }));
    b.set('/requests/svc', request(1)); // a silent overwrite (a lost update)
    expect(acked(b, ops).violations.map((v) => v.message)).toEqual([
      'svc ended with 1 instances; its writes allow only 3',
    ]);
  });

  it('catches an acknowledged kill whose task is still active, and a lost deploy', () => {
    const b = new TxnBuilder()
      .create('/requests/svc', request(1))
      .create('/tasks/active/svc/svc-d1-1-1-a1', taskDoc('svc-d1-1-1-a1'))
      .create('/intents/kill-task/svc-d1-1-1-a1', {});
    const kill = op('kill', b.time - 5, b.time + 5, 'ok', {
      requestId: 'svc',
      value: 'svc-d1-1-1-a1',
    });
    b.create('/deploys/svc/pending/d2', {}).multi(L0, [{ del: '/deploys/svc/pending/d2' }]);
    const deploy = op('deploy', b.time - 15, b.time - 5, 'ok', { requestId: 'svc', value: 'd2' });
    const r = acked(b, [kill, deploy]);
    expect(r.violations.map((v) => v.message).sort()).toEqual([
      'deploy d2 of svc acknowledged; it is in none of pending, active, history',
      'kill of svc-d1-1-1-a1 acknowledged; the task is still active at the end',
      "svc's latest deploy is (none); its deploys allow only d2",
    ]);
  });

  it('accepts a deploy decided since it was acknowledged (OVERDUE, in history), not one that vanished', () => {
    const b = new TxnBuilder()
      .create('/requests/svc', request(1))
      .create('/deploys/svc/pending/d2', {});
    const deploy = op('deploy', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 'd2' });
    const ops = [
      op('create', b.time - 20, b.time - 10, 'ok', { requestId: 'svc', value: 1 }),
      deploy,
    ];
    b.wait(100)
      .multi(L0, [{ del: '/deploys/svc/pending/d2' }])
      .create('/deploys/svc/history/d2', { deployResult: { deployState: 'OVERDUE' } });
    expect(acked(b, ops)).toEqual({ violations: [], lost: 0 });
    // In history as SUCCEEDED yet neither active nor pending: that is no rollback.
    const c = new TxnBuilder()
      .create('/requests/svc', request(1))
      .create('/deploys/svc/pending/d2', {});
    const ops2 = [op('deploy', c.time - 5, c.time + 5, 'ok', { requestId: 'svc', value: 'd2' })];
    c.wait(100)
      .multi(L0, [{ del: '/deploys/svc/pending/d2' }])
      .create('/deploys/svc/history/d2', { deployResult: { deployState: 'SUCCEEDED' } });
    expect(acked(c, ops2).violations.map((v) => v.message)).toEqual([
      "svc's latest deploy is (none); its deploys allow only d2",
    ]);
  });

  it('accepts a rollback only to the deploy that was active before the failed one', () => {
    const SUCCEEDED = { deployResult: { deployState: 'SUCCEEDED' } };
    const history = (final: 'd1' | '(none)') => {
      const b = new TxnBuilder()
        .create('/requests/svc', request(1))
        .create('/deploys/svc/pending/d1', {});
      const ops = [
        op('create', b.time - 20, b.time - 10, 'ok', { requestId: 'svc', value: 1 }),
        op('deploy', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 'd1' }),
      ];
      b.wait(100).multi(L0, [{ del: '/deploys/svc/pending/d1' }]);
      b.create('/deploys/svc/active/d1', SUCCEEDED).wait(100).create('/deploys/svc/pending/d2', {});
      ops.push(op('deploy', b.time - 5, b.time + 5, 'ok', { requestId: 'svc', value: 'd2' }));
      b.wait(100)
        .multi(L0, [{ del: '/deploys/svc/pending/d2' }])
        .create('/deploys/svc/history/d2', { deployResult: { deployState: 'OVERDUE' } });
      if (final === '(none)') {
        // d1 leaves active for history: the request no longer runs the deploy it was on.
        b.multi(L0, [{ del: '/deploys/svc/active/d1' }]).create(
          '/deploys/svc/history/d1',
          SUCCEEDED,
        );
      }
      return acked(b, ops);
    };
    expect(history('d1')).toEqual({ violations: [], lost: 0 });
    expect(history('(none)').violations.map((v) => v.message)).toEqual([
      "svc's latest deploy is (none); its deploys allow only d2",
    ]);
  });

  it('catches load-balancer services that are not the fold of their successful requests', () => {
    const req = (id: string, add: string[], remove: string[]) => ({
      requestId: id,
      request: {
        service: { serviceId: 'web' },
        addUpstreams: add.map((upstream) => ({ upstream })),
        removeUpstreams: remove.map((upstream) => ({ upstream })),
      },
    });
    const b = new TxnBuilder()
      .create('/lb/requests/a', { ...req('a', ['h:1', 'h:2'], []), state: 'WAITING' })
      .set('/lb/requests/a', { ...req('a', ['h:1', 'h:2'], []), state: 'SUCCESS' })
      .create('/lb/requests/b', { ...req('b', [], ['h:2']), state: 'WAITING' });
    const submit = op('lb-submit', b.time - 5, b.time + 5, 'ok', { value: { lbRequestId: 'b' } });
    b.set('/lb/requests/b', { ...req('b', [], ['h:2']), state: 'SUCCESS' }).create(
      '/lb/services/web',
      {
        upstreams: [{ upstream: 'h:1' }, { upstream: 'h:2' }],
      },
    );
    expect(acked(b, [submit]).violations.map((v) => v.message)).toEqual([
      '/lb/services/web holds [h:1 h:2], its successful requests make [h:1]',
    ]);
  });
});

/** Timelines of `web` tasks for the routing and cleanup checks. */
function webTimelines(b: TxnBuilder) {
  const check = new ActiveTasksCheck();
  replayAll(b.txns, CHROOT, [check]);
  return check.timelines;
}

describe('invariant 5: routing follows task health and kills (synthetic histories)', () => {
  const b = new TxnBuilder().create(
    '/tasks/active/web/web-d1-1-1-a1',
    taskDoc('web-d1-1-1-a1', { state: 'TASK_STARTING', ports: [150] }),
  );
  const created = b.time;
  b.wait(1_000).set('/tasks/active/web/web-d1-1-1-a1', taskDoc('web-d1-1-1-a1', { ports: [150] }));
  const running = b.time;
  const timelines = webTimelines(b);
  const killedAt = running + 5_000;
  const sandboxes = new Map<string, SandboxTask>([
    ['web-d1-1-1-a1', { killRequestedAt: killedAt } as SandboxTask],
  ]);
  const nginx = (at: number) =>
    op('nginx', at, at + 10, 'ok', { result: { upstreams: ['127.0.0.1:150'] } });
  const judge = (
    ops: ReturnType<typeof nginx>[],
    lbSamples: { at: number; members: string[] }[] = [],
  ) =>
    checkLbRouting({
      ops,
      lbSamples,
      timelines,
      sandboxes,
      serviceRequestId: 'web',
    }).violations.map((v) => v.check);

  it('passes traffic between the task’s start and its kill', () => {
    expect(
      judge([nginx(running + 100)], [{ at: running + 200, members: ['127.0.0.1:150'] }]),
    ).toEqual([]);
  });

  it('catches traffic before the task ran, after its kill, and to an unknown upstream', () => {
    const stray = op('nginx', running, running + 5, 'ok', {
      result: { upstreams: ['127.0.0.1:9'] },
    });
    expect(judge([nginx(created + 10), nginx(killedAt + 50), stray]).sort()).toEqual([
      'nginx-routed-after-kill',
      'nginx-routed-before-running',
      'nginx-upstream-without-task',
    ]);
  });

  it('catches an upstream still given to nginx after its task’s kill', () => {
    expect(judge([], [{ at: killedAt + 1, members: ['127.0.0.1:150'] }])).toEqual([
      'lb-members-routed-after-kill',
    ]);
  });
});

describe('invariant 6: cleanup never touches an active task (synthetic histories)', () => {
  const b = new TxnBuilder().create('/tasks/active/svc/svc-d1-1-1-a1', taskDoc('svc-d1-1-1-a1'));
  const t0 = b.time;
  const timelines = webTimelines(b);
  const run = (deleted: string[], after: string[]) =>
    op('cleanup', t0 + 100, t0 + 200, 'ok', {
      result: {
        agentId: 'a1',
        before: ['svc-d1-1-1-a1', 'old'],
        after,
        deleted,
        killed: [],
        safeMode: null,
      },
    });

  it('passes a run that deleted only a task that is not active', () => {
    expect(checkCleanupSafety([run(['old'], ['svc-d1-1-1-a1'])], timelines).violations).toEqual([]);
  });

  it('catches a run that deleted an active task’s sandbox, or during which it vanished', () => {
    expect(checkCleanupSafety([run(['svc-d1-1-1-a1'], [])], timelines).violations).toHaveLength(1);
    expect(
      checkCleanupSafety([run([], ['old'])], timelines).violations.map((v) => v.message),
    ).toEqual([
      'executor-cleanup on a1 ran while the sandbox vanished of svc-d1-1-1-a1, active throughout the run',
    ]);
  });
});

describe('invariant 7: bad input changes nothing (synthetic histories)', () => {
  const probe = (status: number, markers: string[] = []) =>
    op('hostile', 100, 110, status < 500 ? 'fail' : 'info', {
      status,
      value: { probe: 'p', markers, path: '/x' },
    });

  it('passes refused probes that left nothing behind', () => {
    const b = new TxnBuilder().create('/requests/hostile_target', request(0));
    expect(
      checkHostileInput([probe(400, ['hostile_a1'])], b.txns, CHROOT, b.time).violations,
    ).toEqual([]);
  });

  it('accepts 503 only for a probe that needs stored state to be judged', () => {
    const stateful = op('hostile', 100, 110, 'info', {
      status: 503,
      value: { probe: 'p', markers: [], path: '/x', needsState: true },
    });
    expect(checkHostileInput([stateful], [], CHROOT, 0).violations).toEqual([]);
    expect(checkHostileInput([probe(503)], [], CHROOT, 0).violations.map((v) => v.check)).toEqual([
      'bad-input-no-clear-error',
    ]);
  });

  it('catches a 5xx, an accepted probe, a persisted marker and a changed target', () => {
    const b = new TxnBuilder().create('/requests/hostile_target', request(0));
    const setupEnd = b.time;
    b.create('/requests/hostile_a1', request(1)).set('/requests/hostile_target', request(9));
    const checks = checkHostileInput(
      [probe(500), probe(200, ['hostile_a1'])],
      b.txns,
      CHROOT,
      setupEnd,
    )
      .violations.map((v) => v.check)
      .sort();
    expect(checks).toEqual([
      'bad-input-accepted',
      'bad-input-no-clear-error',
      'bad-input-persisted',
      'hostile-target-changed',
    ]);
  });
});

describe('invariants 3 and 4 on the agents’ processes (synthetic samples)', () => {
  const task = (taskId: string, agentId: string, cpus = 0.5): SandboxTask => ({
    taskId,
    agentId,
    requestId: 'svc',
    deployId: 'd1',
    instanceNo: 1,
    cpus,
    memoryMb: 16,
    diskMb: 0,
    ports: [],
    launchedAt: 0,
  });
  const tasks = new Map([
    ['t1', task('t1', 'a1')],
    ['t2', task('t2', 'a2')],
    ['t3', task('t3', 'a1', 2)],
  ]);
  const agents = [
    { id: 'a1', cpus: 2, memoryMb: 1024 },
    { id: 'a2', cpus: 2, memoryMb: 1024 },
  ];
  const rounds = (n: number, a1: string[], connected = true) =>
    Array.from({ length: n }, (_, i) => [
      { at: i * 1_000, agentId: 'a1', connected, running: a1 },
      { at: i * 1_000, agentId: 'a2', connected: true, running: ['t2'] },
    ]).flat();
  const judge = (samples: ReturnType<typeof rounds>) =>
    checkAgentSamples({ samples, agents, tasks, boundMs: 5_000 }).violations.map((v) => v.check);

  it('passes a duplicate that is reconciled within the bound, or whose agent is away', () => {
    expect(judge(rounds(5, ['t1']))).toEqual([]);
    expect(judge(rounds(20, ['t1'], false))).toEqual([]);
  });

  it('catches a duplicate and an over-commit lasting past the bound while connected', () => {
    expect(judge(rounds(10, ['t1', 't3'])).sort()).toEqual([
      'agent-runs-over-capacity',
      'agents-run-duplicate-instance',
    ]);
  });
});

describe('the checker as a whole', () => {
  it('reports a cluster that did not settle, and a replay that disagrees with ZooKeeper', () => {
    const b = new TxnBuilder().create('/requests/svc', request(1));
    const r = runChecks({
      chroot: CHROOT,
      txns: b.txns,
      ops: [],
      agentSamples: [],
      sandboxTasks: new Map(),
      lbSamples: [],
      agents: [],
      splitBrain: [],
      heartbeats: [],
      convergence: { converged: false, waitedMs: 1, problems: ['a1 runs t9, which is not active'] },
      setupEndMs: 0,
      orphanBoundMs: 1_000,
      liveTree: new Map([['/requests/other', Buffer.from('{}')]]),
      lbServiceRequestId: 'web',
      crashes: [],
    });
    expect(r.violations.map((v) => v.invariant)).toEqual(['reconcile']);
    expect(r.replayMismatches.sort()).toEqual([
      '/requests/other: in ZooKeeper, not in the replay',
      '/requests/svc: in the replay, not in ZooKeeper',
    ]);
  });

  it('reports a process that exited on its own as a crash, with its last log line', () => {
    const fatal = '{"level":60,"msg":"unhandledRejection; exiting"}';
    const r = runChecks({
      chroot: CHROOT,
      txns: new TxnBuilder().txns,
      ops: [],
      agentSamples: [],
      sandboxTasks: new Map(),
      lbSamples: [],
      agents: [],
      splitBrain: [],
      heartbeats: [],
      convergence: { converged: true, waitedMs: 1, problems: [] },
      setupEndMs: 0,
      orphanBoundMs: 1_000,
      lbServiceRequestId: 'web',
      crashes: [
        { name: 'replica-2', code: 1, signal: null, at: 5, lastLogLine: fatal },
        { name: 'zk:2181', code: null, signal: 'SIGSEGV', at: 9 },
      ],
    });
    expect(r.violations.map((v) => [v.invariant, v.check, v.at])).toEqual([
      ['crash', 'process-crashed', 5],
      ['crash', 'process-crashed', 9],
    ]);
    expect(r.violations[0]?.message).toBe(
      `replica-2 exited on its own (exit code 1); last log line: ${fatal}`,
    );
    expect(r.violations[1]?.message).toBe('zk:2181 exited on its own (signal SIGSEGV)');
    expect(r.coverage.processCrashes).toBe(2);
  });

  it('counts the agent document of a synthetic agent', () => {
    expect(agentDoc(2)).toMatchObject({ resources: { cpus: 2 } });
  });
});
