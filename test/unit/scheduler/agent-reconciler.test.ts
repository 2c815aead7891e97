/**
 * Agent reconciliation's driver with the real status writer and kill sender, on a fake
 * leadership host (in-memory tasks and agents, recorded multis; no ZooKeeper), so the order
 * of a LOST write and a registration can be forced.
 */
import { describe, expect, it, vi } from 'vitest';
import { agentSettled } from '../../../src/scheduler/agent-reconcile-plan.js';
import { AgentReconciler } from '../../../src/scheduler/agent-reconciler.js';
import { KillSender } from '../../../src/scheduler/kill-policy.js';
import { StatusWriter } from '../../../src/scheduler/status-writer.js';
import type { AgentRecord } from '../../../src/state/index.js';
import { FakeHost, fakeSession, makeTask } from './leader-fakes.js';

const record = (agentId: string) => ({ agentId }) as unknown as AgentRecord;

function leadershipOn(host: FakeHost) {
  const ended: string[] = [];
  const writer = new StatusWriter(host, (t) => ended.push(t.taskId));
  const kills = new KillSender(host);
  const reconciler = new AgentReconciler(host, writer, kills, () => Promise.resolve(undefined));
  return { writer, reconciler, ended };
}

describe('AgentReconciler (fake leadership host, no ZooKeeper)', () => {
  it('kills the tasks of a re-registered agent once their LOST commits after its registration', async () => {
    const t1 = makeTask('dep', 1, 'TASK_RUNNING', 'sim-b');
    const t2 = makeTask('dep', 2, 'TASK_RUNNING', 'sim-b');
    const host = new FakeHost().add(t1, t2);
    host.term = 7;
    host.agents.set('sim-b', { record: record('sim-b'), version: 0, disconnectedAt: 0 });
    const { writer, reconciler, ended } = leadershipOn(host);

    // sim-b is declared lost: the LOST write is in flight...
    let commit: () => void = () => undefined;
    host.gate = new Promise((resolve) => (commit = resolve));
    const at = Date.now();
    writer.fromLeader(
      [t1, t2].map((t) => ({ taskId: t.taskId, update: { state: 'TASK_LOST', at } })),
    );
    // ...when sim-b registers again, reporting both tasks: its reconcile sees them active.
    const reported = [t1, t2].map((t) => ({ taskId: t.taskId, state: 'TASK_RUNNING' }));
    const { session, sent } = fakeSession('sim-b', host.term, reported);
    host.agents.get('sim-b')!.session = session;
    await reconciler.reconcileRegistration(session);
    expect(sent).toEqual([]);

    // The LOST commits after the registration's reconcile: the tasks leave the active set.
    commit();
    await vi.waitFor(() => expect(ended).toEqual([t1.taskId, t2.taskId]));
    expect(host.tasks.size).toBe(0);
    // The next cycle's reconcile kills what the agent still runs, stamped with the term.
    await reconciler.reconcileConnected();
    expect(sent.map((m) => [m.term, m.kill?.taskId, m.kill?.reason])).toEqual([
      [7, t1.taskId, 'not active on this agent'],
      [7, t2.taskId, 'not active on this agent'],
    ]);

    // Not again while the kills are in their grace; forgotten once the agent reports them ended.
    await reconciler.reconcileConnected();
    expect(sent).toHaveLength(2);
    session.noteReported(t1.taskId, 'TASK_KILLED');
    session.noteReported(t2.taskId, 'TASK_KILLED');
    await reconciler.reconcileConnected(Date.now() + 60_000);
    expect(sent).toHaveLength(2);
    expect(session.reported.size).toBe(0);
  });

  it('re-sends an orphan kill under the kill policy while the agent keeps reporting the task', async () => {
    const host = new FakeHost();
    host.agents.set('a', { record: record('a'), version: 0, disconnectedAt: 0 });
    const { reconciler } = leadershipOn(host);
    const { session, sent } = fakeSession('a', 1, [{ taskId: 'ghost', state: 'TASK_RUNNING' }]);
    host.agents.get('a')!.session = session;
    const t0 = 1_000_000;
    await reconciler.reconcileRegistration(session, t0);
    await reconciler.reconcileConnected(t0 + host.options.killGraceMs);
    await reconciler.reconcileConnected(t0 + host.options.killGraceMs + 2_001);
    expect(sent.map((m) => m.kill?.taskId)).toEqual(['ghost', 'ghost']);
  });

  it('holds an orphan kill while a load balancer may still route to the agent, sends it once not', async () => {
    const host = new FakeHost();
    host.agents.set('a', { record: record('a'), version: 0, disconnectedAt: 0 });
    const { reconciler } = leadershipOn(host);
    let routed = true;
    reconciler.orphanHold = (agentId) => agentId === 'a' && routed;
    const { session, sent } = fakeSession('a', 1, [{ taskId: 'ghost', state: 'TASK_RUNNING' }]);
    host.agents.get('a')!.session = session;
    await reconciler.reconcileRegistration(session);
    await reconciler.reconcileConnected();
    expect(sent).toEqual([]);
    // The stale upstream left every lb-agent: the next round kills the orphan.
    routed = false;
    await reconciler.reconcileConnected();
    expect(sent.map((m) => m.kill?.taskId)).toEqual(['ghost']);
  });

  it('re-sends a kill a previous leader persisted, for the cause its record keeps', async () => {
    const cleanup = {
      cleanupType: 'DEPLOY_STEP_FINISHED' as const,
      message: 'replaced',
      timestamp: 5,
    };
    const t = {
      ...makeTask('r', 1, 'TASK_RUNNING', 'a'),
      killReason: 'operator',
      taskCleanup: cleanup,
    };
    const host = new FakeHost().add(t);
    host.agents.set('a', { record: record('a'), version: 0, disconnectedAt: 0 });
    const { reconciler } = leadershipOn(host);
    const { session, sent } = fakeSession('a', 1, [{ taskId: t.taskId, state: 'TASK_RUNNING' }]);
    host.agents.get('a')!.session = session;
    await reconciler.reconcileRegistration(session);
    expect(sent.map((m) => [m.kill?.taskId, m.kill?.reason])).toEqual([
      [t.taskId, 'DEPLOY_STEP_FINISHED: replaced'],
    ]);
  });

  it('marks LOST an active task a connected agent stopped reporting, only after its grace', async () => {
    const t = makeTask('r', 1, 'TASK_RUNNING', 'a');
    const host = new FakeHost().add(t);
    host.agents.set('a', { record: record('a'), version: 0, disconnectedAt: 0 });
    const { reconciler, ended } = leadershipOn(host);
    const { session } = fakeSession('a', 1, [{ taskId: t.taskId, state: 'TASK_RUNNING' }]);
    host.agents.get('a')!.session = session;
    session.reported.delete(t.taskId); // as if its report never reached this stream
    const t0 = 2_000_000;
    await reconciler.reconcileConnected(t0);
    await reconciler.reconcileConnected(t0 + host.options.unreportedGraceMs - 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toEqual([]);
    await reconciler.reconcileConnected(t0 + host.options.unreportedGraceMs);
    await vi.waitFor(() => expect(ended).toEqual([t.taskId]));
  });

  it('skips a settled agent until it reports something or its active tasks change', async () => {
    const t = makeTask('r', 1, 'TASK_RUNNING', 'a');
    const host = new FakeHost().add(t);
    host.agents.set('a', { record: record('a'), version: 0, disconnectedAt: 0 });
    const { reconciler } = leadershipOn(host);
    const { session, sent } = fakeSession('a', 1, [{ taskId: t.taskId, state: 'TASK_RUNNING' }]);
    host.agents.get('a')!.session = session;
    await reconciler.reconcileRegistration(session);
    expect(session.settled).toBe(true);
    await reconciler.reconcileConnected(); // the round that reconciles every agent, settled or not

    // A report of a task it should not run unsettles it: the next round kills that task.
    session.noteReported('stray', 'TASK_RUNNING');
    await reconciler.reconcileConnected();
    expect(sent.map((m) => m.kill?.taskId)).toEqual(['stray']);
    expect(session.settled).toBe(false);
    session.noteReported('stray', 'TASK_KILLED');
    await reconciler.reconcileConnected();
    expect(session.settled).toBe(true);

    // Its task leaving the active set while it still runs: the change is noted for the agent.
    host.tasks.delete(t.taskId);
    await reconciler.reconcileConnected(Date.now() + 1);
    expect(sent.map((m) => m.kill?.taskId)).toEqual(['stray', t.taskId]);
  });

  it('settles only an agent that reports exactly its active tasks, running, none being killed', () => {
    const t1 = makeTask('r', 1, 'TASK_RUNNING', 'a');
    const t2 = makeTask('r', 2, 'TASK_LAUNCHED', 'a');
    const running = new Map([[t1.taskId, 'TASK_RUNNING']]);
    expect(agentSettled(running, [t1])).toBe(true);
    expect(agentSettled(running, [t1, t2])).toBe(false); // t2 unreported: relaunch, or LOST
    expect(agentSettled(new Map([...running, ['orphan', 'TASK_RUNNING']]), [t1])).toBe(false);
    expect(agentSettled(new Map([[t1.taskId, 'TASK_FINISHED']]), [t1])).toBe(false);
    expect(agentSettled(running, [{ ...t1, killReason: 'operator' }])).toBe(false);
  });
});
