import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import {
  activeTasks,
  anyUrl,
  assertDistinctInstances,
  callJson,
  shortAgentGraces,
  waitRunning,
  type ActiveTask,
} from '../harness/tasks-cluster.js';
import {
  askDemo,
  createDemoService,
  processesWithTaskId,
  restartRealAgent,
  startRealAgent,
} from '../harness/tasks-real-agents.js';

const zk = useZooKeeper();
shortAgentGraces();

/** Every active task answers on its port, as itself, from exactly one process. */
async function expectServing(tasks: ActiveTask[]): Promise<void> {
  await waitFor(
    'every task answering on its port',
    async () => {
      const answers = await Promise.all(tasks.map((t) => askDemo(t.ports[0]!)));
      return answers.every((a, i) => a?.taskId === tasks[i]!.id) || undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  for (const t of tasks) expect([t.id, processesWithTaskId(t.id).length]).toEqual([t.id, 1]);
}

describe('tasks on real agents and processes (real ZooKeeper, replicas, agents)', () => {
  it('N instances answer on their ports; scale up and down; a killed task is replaced; stdout readable', async () => {
    const cluster = await startCluster(zk());
    await Promise.all([startRealAgent(cluster, 'agent-a'), startRealAgent(cluster, 'agent-b')]);
    await createDemoService(cluster, 'demo', 3);
    let tasks = await waitRunning(cluster, 'demo', 3);
    assertDistinctInstances(tasks);
    await expectServing(tasks);

    const url = anyUrl(cluster);
    await callJson(`${url}/api/requests/request/demo/scale`, 'PUT', { instances: 5 });
    tasks = await waitRunning(cluster, 'demo', 5);
    await expectServing(tasks);
    await callJson(`${url}/api/requests/request/demo/scale`, 'PUT', { instances: 2 });
    const kept = await waitRunning(cluster, 'demo', 2);
    const gone = tasks.filter((t) => !kept.some((k) => k.id === t.id));
    await waitFor('scaled-down processes gone', () =>
      gone.every((t) => processesWithTaskId(t.id).length === 0),
    );

    // The task's process dies on its own: the instance runs again as a new task.
    const victim = kept[0]!;
    for (const pid of processesWithTaskId(victim.id)) process.kill(pid, 'SIGKILL');
    const after = await waitFor(
      'the killed task replaced',
      async () => {
        const now = (await activeTasks(cluster)).filter((t) => t.requestId === 'demo');
        return now.length === 2 &&
          !now.some((t) => t.id === victim.id) &&
          now.every((t) => t.state === 'TASK_RUNNING')
          ? now
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await expectServing(after);
    const ended = await callJson(`${url}/api/tasks/task/${victim.id}`, 'GET');
    expect(['TASK_FAILED', 'TASK_KILLED']).toContain(ended.body.state);

    // stdout through the sandbox API, served by the task's agent.
    const read = await waitFor('stdout readable', async () => {
      const r = await callJson(
        `${url}/api/sandbox/${after[0]!.id}/read?path=stdout&offset=0&length=4096`,
        'GET',
      );
      return r.status === 200 && String(r.body.data).includes('listening') ? r.body : undefined;
    });
    expect(read.data).toContain(after[0]!.id);
    const bad = await callJson(`${url}/api/sandbox/${after[0]!.id}/read?offset=-1`, 'GET');
    expect(bad.status).toBe(400);
  });

  it('kill -9 of an agent: its tasks become LOST and run on the other; restarting it runs nothing twice', async () => {
    const cluster = await startCluster(zk());
    const [a, b] = await Promise.all([
      startRealAgent(cluster, 'agent-a'),
      startRealAgent(cluster, 'agent-b'),
    ]);
    await createDemoService(cluster, 'demo', 3);
    const before = await waitRunning(cluster, 'demo', 3);
    const victim = [a, b].find((x) => x.agentId === before[0]!.agentId)!;
    const survivor = victim === a ? b : a;
    victim.proc.signal('SIGKILL');
    await victim.proc.waitExit();
    const after = await waitFor(
      'tasks running on the survivor',
      async () => {
        const now = (await activeTasks(cluster)).filter((t) => t.requestId === 'demo');
        return now.length === 3 &&
          now.every((t) => t.agentId === survivor.agentId && t.state === 'TASK_RUNNING')
          ? now
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const moved = before.filter((t) => t.agentId === victim.agentId);
    for (const t of moved) {
      const rec = await callJson(`${anyUrl(cluster)}/api/tasks/task/${t.id}`, 'GET');
      expect(rec.body.state).toBe('TASK_LOST');
    }
    await expectServing(after);
    // The agent comes back: its orphaned tasks (replaced meanwhile) are killed, nothing doubles.
    restartRealAgent(victim);
    await waitFor(
      'orphans killed',
      () => moved.every((t) => processesWithTaskId(t.id).length === 0),
      { timeoutMs: 30_000 },
    );
    const final = await waitRunning(cluster, 'demo', 3);
    expect(final.map((t) => t.id).sort()).toEqual(after.map((t) => t.id).sort());
    await expectServing(final);
  });

  it('restarting an agent re-attaches its running tasks: the same processes, none twice', async () => {
    const cluster = await startCluster(zk());
    const agent = await startRealAgent(cluster, 'agent-a');
    await createDemoService(cluster, 'demo', 2);
    const before = await waitRunning(cluster, 'demo', 2);
    const pids = before.map((t) => processesWithTaskId(t.id));
    await agent.proc.stop(2_000);
    restartRealAgent(agent);
    const after = await waitRunning(cluster, 'demo', 2);
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    expect(before.map((t) => processesWithTaskId(t.id))).toEqual(pids);
    await expectServing(after);
  });
});
