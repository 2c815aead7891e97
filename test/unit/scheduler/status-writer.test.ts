/**
 * The status writer against a fake leadership host (in-memory tasks, recorded multis; no
 * ZooKeeper): batching, ack routing, history compaction, and the fallbacks after a refused
 * or conflicting write.
 */
import { describe, expect, it, vi } from 'vitest';
import type { LeaderMessage } from '../../../src/gen/thales/v1/LeaderMessage.js';
import { StatusWriter } from '../../../src/scheduler/status-writer.js';
import { MAX_HISTORY_PER_REQUEST, type Task, statePaths } from '../../../src/state/index.js';
import { FakeHost, conflict, connectionLoss, fakeSession, makeTask } from './leader-fakes.js';

function update(taskId: string, state: string, updateId = `u-${taskId}-${state}`) {
  return {
    updateId,
    taskId,
    state,
    message: '',
    hasExitCode: false,
    exitCode: 0,
    atMs: 1,
    healthcheck: null,
  };
}

function writerFor(host: FakeHost) {
  const ended: Task[] = [];
  const changed: Task[] = [];
  const writer = new StatusWriter(
    host,
    (t) => ended.push(t),
    (t) => changed.push(t),
  );
  return { writer, ended, changed };
}

const acked = (sent: LeaderMessage[]) => sent.flatMap((m) => m.ack?.updateIds ?? []);

describe('StatusWriter (fake leadership host, no ZooKeeper)', () => {
  it('batches what is queued meanwhile into one multi, at most 100 updates each', async () => {
    const tasks = Array.from({ length: 150 }, (_, i) => makeTask('r', i + 1, 'TASK_LAUNCHED'));
    const host = new FakeHost().add(...tasks);
    const { writer } = writerFor(host);
    const { session, sent } = fakeSession('agent-a');
    for (const t of tasks) writer.fromAgent(session, update(t.taskId, 'TASK_RUNNING'));
    await vi.waitFor(() => expect(acked(sent)).toHaveLength(150));
    // The flush starts after the updates queued in the same tick: 100, then the other 50.
    expect(host.writes.map((w) => w.length)).toEqual([100, 50]);
    expect([...host.tasks.values()].every((t) => t.state === 'TASK_RUNNING')).toBe(true);
  });

  it('acknowledges each update on its own agent stream, only once committed', async () => {
    const a = makeTask('r', 1, 'TASK_LAUNCHED', 'agent-a');
    const b = makeTask('r', 2, 'TASK_LAUNCHED', 'agent-b');
    const host = new FakeHost().add(a, b);
    let open: () => void = () => undefined;
    host.gate = new Promise((resolve) => (open = resolve));
    const { writer } = writerFor(host);
    const sa = fakeSession('agent-a');
    const sb = fakeSession('agent-b');
    writer.fromAgent(sa.session, update(a.taskId, 'TASK_RUNNING', 'ua'));
    writer.fromAgent(sb.session, update(b.taskId, 'TASK_RUNNING', 'ub'));
    // A leader-decided change has no stream to acknowledge on.
    writer.fromLeader([{ taskId: a.taskId, update: { state: 'TASK_LOST', at: 2 } }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(acked(sa.sent)).toEqual([]);
    expect(acked(sb.sent)).toEqual([]);
    open();
    await vi.waitFor(() => expect(host.tasks.has(a.taskId)).toBe(false));
    expect(acked(sa.sent)).toEqual(['ua']);
    expect(acked(sb.sent)).toEqual(['ub']);
  });

  it('acknowledges an update of a task that is no longer active without writing it', async () => {
    const host = new FakeHost();
    const { writer } = writerFor(host);
    const { session, sent } = fakeSession('agent-a');
    writer.fromAgent(session, update('gone-task', 'TASK_KILLED', 'u1'));
    await vi.waitFor(() => expect(acked(sent)).toEqual(['u1']));
    expect(host.writes).toEqual([]);
  });

  it('moves an ended task to history and keeps each history bounded, oldest first', async () => {
    const old = Array.from({ length: MAX_HISTORY_PER_REQUEST }, (_, i) =>
      makeTask('r', 1000 + i, 'TASK_FINISHED', 'agent-a', 1_600_000_000_000 + i),
    ).map((t) => t.taskId);
    const host = new FakeHost();
    // Stored in any order: the writer sorts by launch time.
    host.historyInStore.set('r', [...old].reverse());
    const t1 = makeTask('r', 1);
    const t2 = makeTask('r', 2);
    host.add(t1, t2);
    const { writer, ended } = writerFor(host);
    writer.fromLeader([{ taskId: t1.taskId, update: { state: 'TASK_LOST', at: 5 } }]);
    await vi.waitFor(() => expect(ended).toHaveLength(1));
    writer.fromLeader([{ taskId: t2.taskId, update: { state: 'TASK_LOST', at: 6 } }]);
    await vi.waitFor(() => expect(ended).toHaveLength(2));
    expect(host.removedHistory('r')).toEqual([old[0], old[1]]);
    const created = host.writes
      .flat()
      .filter((o) => o.op === 'create')
      .map((o) => o.path);
    expect(created).toEqual([
      statePaths.taskHistory('r', t1.taskId),
      statePaths.taskHistory('r', t2.taskId),
    ]);
  });

  it('after a refused write, retries with the same compaction: no history entry is forgotten', async () => {
    const old = Array.from({ length: MAX_HISTORY_PER_REQUEST }, (_, i) =>
      makeTask('r', 1000 + i, 'TASK_FINISHED', 'agent-a', 1_600_000_000_000 + i),
    ).map((t) => t.taskId);
    const host = new FakeHost();
    host.historyInStore.set('r', old);
    const [t1, t2, t3] = [makeTask('r', 1), makeTask('r', 2), makeTask('r', 3)];
    host.add(t1!, t2!, t3!);
    host.failNext.push(connectionLoss());
    const { writer, ended } = writerFor(host);
    writer.fromLeader([{ taskId: t1!.taskId, update: { state: 'TASK_LOST', at: 5 } }]);
    await vi.waitFor(() => expect(ended).toHaveLength(1), { timeout: 5_000 });
    expect(host.refusals).toHaveLength(1);
    // The refused multi removed nothing: the retry must remove the same oldest entry.
    expect(host.removedHistory('r')).toEqual([old[0]]);
    writer.fromLeader([
      { taskId: t2!.taskId, update: { state: 'TASK_LOST', at: 6 } },
      { taskId: t3!.taskId, update: { state: 'TASK_LOST', at: 7 } },
    ]);
    await vi.waitFor(() => expect(ended).toHaveLength(3));
    expect(host.removedHistory('r')).toEqual([old[0], old[1], old[2]]);
  });

  it('a history that cannot be read (CONNECTION_LOSS) is a retry, not a crash: nothing acked until written', async () => {
    // Seen in a 30-minute chaos run: the rejection escaped the detached flush and the
    // unhandled rejection ended every replica that was leader at that moment.
    const t1 = makeTask('r', 1, 'TASK_RUNNING', 'agent-a');
    const host = new FakeHost().add(t1);
    host.historyReadFailures.push(connectionLoss(), connectionLoss());
    const { writer, ended } = writerFor(host);
    const { session, sent } = fakeSession('agent-a');
    writer.fromAgent(session, update(t1.taskId, 'TASK_FINISHED', 'u1'));
    await vi.waitFor(() => expect(ended).toHaveLength(1), { timeout: 5_000 });
    expect(host.historyReadFailures).toHaveLength(0);
    expect(host.writes).toHaveLength(1);
    expect(acked(sent)).toEqual(['u1']);
    expect(host.tasks.has(t1.taskId)).toBe(false);
  });

  it('on a conflict, writes task by task: one stale change does not hold the others', async () => {
    const a = makeTask('r', 1, 'TASK_LAUNCHED', 'agent-a');
    const b = makeTask('r', 2, 'TASK_RUNNING', 'agent-a');
    const c = makeTask('r', 3, 'TASK_RUNNING', 'agent-a');
    const host = new FakeHost().add(a, b, c);
    // The batch conflicts; then b's end conflicts too, though its active znode is already gone
    // (a retried multi that had committed), and c's conflicts with its znode still there.
    host.failNext.push(conflict(), undefined, conflict(), conflict());
    host.goneFromStore.add(b.taskId);
    const { writer, ended } = writerFor(host);
    const { session, sent } = fakeSession('agent-a');
    writer.fromAgent(session, update(a.taskId, 'TASK_RUNNING', 'ua'));
    writer.fromAgent(session, update(b.taskId, 'TASK_FINISHED', 'ub'));
    writer.fromAgent(session, update(c.taskId, 'TASK_FAILED', 'uc'));
    await vi.waitFor(() => expect(acked(sent)).toEqual(['ua', 'ub']));
    expect(host.tasks.get(a.taskId)?.state).toBe('TASK_RUNNING');
    expect(ended.map((t) => t.taskId)).toEqual([b.taskId]);
    // c is neither applied nor acknowledged: its agent sends it again.
    expect(host.tasks.get(c.taskId)?.state).toBe('TASK_RUNNING');
  });

  it('stops writing when the leadership is revoked', async () => {
    const a = makeTask('r', 1, 'TASK_LAUNCHED');
    const host = new FakeHost().add(a);
    host.failNext.push(connectionLoss(), connectionLoss(), connectionLoss());
    const { writer } = writerFor(host);
    writer.fromLeader([{ taskId: a.taskId, update: { state: 'TASK_LOST', at: 1 } }]);
    await vi.waitFor(() => expect(host.refusals.length).toBeGreaterThan(0));
    host.revoked = true;
    writer.stop();
    const seen = host.refusals.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(host.refusals.length).toBe(seen);
    expect(host.writes).toEqual([]);
  });
});
