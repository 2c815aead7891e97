import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import {
  activeTasks,
  anyUrl,
  assertDistinctInstances,
  callJson,
  createService,
  shortAgentGraces,
  waitRunning,
} from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

describe('task lifecycle with simulated agents (real ZooKeeper and replicas)', () => {
  it('runs N instances, scales up and down, replaces killed and failed tasks', async () => {
    const cluster = await startCluster(zk());
    const agents = startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'web', 3);
    let tasks = await waitRunning(cluster, 'web', 3);
    assertDistinctInstances(tasks);
    expect(tasks.map((t) => t.instanceNo).sort()).toEqual([1, 2, 3]);
    expect(tasks.every((t) => t.ports.length === 1)).toBe(true);

    const url = anyUrl(cluster);
    expect(
      (await callJson(`${url}/api/requests/request/web/scale`, 'PUT', { instances: 5 })).status,
    ).toBe(200);
    tasks = await waitRunning(cluster, 'web', 5);
    assertDistinctInstances(tasks);
    await callJson(`${url}/api/requests/request/web/scale`, 'PUT', { instances: 2 });
    tasks = await waitRunning(cluster, 'web', 2);
    expect(tasks.map((t) => t.instanceNo).sort()).toEqual([1, 2]);

    // Kill through the API (an intent the leader drains): the instance is replaced.
    const victim = tasks[0]!;
    const kill = await callJson(`${url}/api/tasks/task/${victim.id}`, 'DELETE');
    expect(kill.status).toBe(202);
    await waitFor('the killed task replaced', async () => {
      const now = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
      return (
        now.length === 2 &&
        !now.some((t) => t.id === victim.id) &&
        now.every((t) => t.state === 'TASK_RUNNING')
      );
    });
    const ended = await callJson(`${url}/api/tasks/task/${victim.id}`, 'GET');
    expect(ended.body.state).toBe('TASK_KILLED');

    // A task that fails on its own is replaced too (after its back-off).
    const current = await waitRunning(cluster, 'web', 2);
    const failing = current[0]!;
    const owner = agents.find((a) => a.tasks.has(failing.id))!;
    owner.finish(failing.id, 'TASK_FAILED', 1);
    await waitFor('the failed task replaced', async () => {
      const now = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
      return (
        now.length === 2 &&
        !now.some((t) => t.id === failing.id) &&
        now.every((t) => t.state === 'TASK_RUNNING')
      );
    });
    const failed = await callJson(`${url}/api/tasks/task/${failing.id}`, 'GET');
    expect(failed.body.state).toBe('TASK_FAILED');
    expect(failed.body.updates.at(-1).exitCode).toBe(1);
    // Every live simulated task is one the cluster reports active.
    const live = agents.flatMap((a) => a.liveTasks().map((t) => t.spec.taskId)).sort();
    await waitFor('agents and cluster agree', async () => {
      const ids = (await activeTasks(cluster)).map((t) => t.id).sort();
      return JSON.stringify(ids) === JSON.stringify(live) || undefined;
    });
    // The leader counted what its matcher placed: 3, then 2 more, then 2 replacements.
    const { replica } = await cluster.waitForLeader();
    const metrics = await (await fetch(`${replica.url}/metrics`)).text();
    const placed = /thales_offer_match_tasks_total\{[^}]*outcome="placed"[^}]*\} (\d+)/.exec(
      metrics,
    );
    expect(Number(placed?.[1])).toBeGreaterThanOrEqual(7);
    expect(metrics).toMatch(
      /thales_offer_match_seconds_count\{[^}]*path="inline",phase="total"[^}]*\} \d+/,
    );
  });

  it('a lost agent: its tasks become LOST and run again on the other; a restart re-attaches', async () => {
    const cluster = await startCluster(zk());
    const agents = startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'api', 4);
    const before = await waitRunning(cluster, 'api', 4);
    // Stop the agent that holds the first task (bin packing may put them all on one).
    const gone = agents.find((x) => x.o.agentId === before[0]!.agentId)!;
    const other = agents.find((x) => x !== gone)!;
    const onGone = before.filter((t) => t.agentId === gone.o.agentId);
    gone.stop();
    const after = await waitFor('tasks moved to the other agent', async () => {
      const tasks = (await activeTasks(cluster)).filter((t) => t.requestId === 'api');
      return tasks.length === 4 &&
        tasks.every((t) => t.agentId === other.o.agentId && t.state === 'TASK_RUNNING')
        ? tasks
        : undefined;
    });
    assertDistinctInstances(after);
    const lost = await callJson(`${anyUrl(cluster)}/api/tasks/task/${onGone[0]!.id}`, 'GET');
    expect(lost.body.state).toBe('TASK_LOST');
    // The agent comes back still running its old tasks: they are killed (nobody knows them).
    gone.start();
    await waitFor('old tasks killed', () => gone.liveTasks().length === 0);
    await waitFor('re-registered', () => gone.registered);
    const final = (await activeTasks(cluster)).filter((t) => t.requestId === 'api');
    expect(final.map((t) => t.id).sort()).toEqual(after.map((t) => t.id).sort());
    expect(other.liveTasks().length).toBe(4);
  });

  it('a restarted agent re-attaches: its tasks stay, nothing runs twice', async () => {
    const cluster = await startCluster(zk());
    const agents = startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'keep', 3);
    const before = await waitRunning(cluster, 'keep', 3);
    const agent = agents.find((x) => x.o.agentId === before[0]!.agentId)!;
    agent.stop();
    agent.start(); // back well within the lost-agent grace
    await waitFor('re-registered', () => agent.registered);
    const after = await waitRunning(cluster, 'keep', 3);
    expect(after.map((t) => t.id).sort()).toEqual(before.map((t) => t.id).sort());
    const live = agents.flatMap((a) => a.liveTasks().map((t) => t.spec.taskId));
    expect(live.sort()).toEqual(before.map((t) => t.id).sort());
  });

  it('decommissioning moves tasks away, then marks the agent DECOMMISSIONED', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'dec', 4);
    await waitRunning(cluster, 'dec', 4);
    const url = anyUrl(cluster);
    const frozen = await callJson(`${url}/api/agents/agent/sim-a/decommission`, 'POST');
    expect(frozen.status).toBe(200);
    await waitFor('all tasks on sim-b', async () => {
      const tasks = (await activeTasks(cluster)).filter((t) => t.requestId === 'dec');
      return (
        tasks.length === 4 &&
        tasks.every((t) => t.agentId === 'sim-b' && t.state === 'TASK_RUNNING')
      );
    });
    await waitFor('sim-a DECOMMISSIONED', async () => {
      const agents = (await callJson(`${url}/api/agents`, 'GET')).body as {
        id: string;
        state: string;
      }[];
      return agents.find((x) => x.id === 'sim-a')?.state === 'DECOMMISSIONED';
    });
  });

  it('a new deploy replaces the old tasks once running; pause, unpause and delete', async () => {
    const cluster = await startCluster(zk());
    const agents = startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'rolling', 2);
    const v1 = await waitRunning(cluster, 'rolling', 2);
    const url = anyUrl(cluster);
    // Its tasks run before the leader promotes d1 (the next cycle does): a second deploy while
    // d1 is still pending is refused with 409, so wait for the promotion.
    await waitFor('d1 active', async () => {
      const r = await callJson(`${url}/api/requests/request/rolling`, 'GET');
      return r.body.activeDeploy?.id === 'd1' && !r.body.pendingDeploy;
    });
    const d2 = await callJson(`${url}/api/deploys`, 'POST', {
      deploy: {
        requestId: 'rolling',
        id: 'd2',
        command: 'sleep',
        arguments: ['99'],
        resources: { cpus: 0.1, memoryMb: 16 },
      },
    });
    expect(d2.status).toBe(200);
    const v2 = await waitFor('only d2 tasks running', async () => {
      const tasks = (await activeTasks(cluster)).filter((t) => t.requestId === 'rolling');
      return tasks.length === 2 &&
        tasks.every((t) => t.deployId === 'd2' && t.state === 'TASK_RUNNING')
        ? tasks
        : undefined;
    });
    assertDistinctInstances(v2);
    const req = await callJson(`${url}/api/requests/request/rolling`, 'GET');
    expect(req.body.activeDeploy.id).toBe('d2');
    expect(req.body.pendingDeploy).toBeUndefined();
    for (const t of v1)
      expect((await callJson(`${url}/api/tasks/task/${t.id}`, 'GET')).body.state).toBe(
        'TASK_KILLED',
      );
    // The launches of d2 carry its command.
    expect(agents.flatMap((a) => a.launches).find((l) => l.deployId === 'd2')?.arguments).toEqual([
      '99',
    ]);

    await callJson(`${url}/api/requests/request/rolling/pause`, 'POST');
    await waitFor(
      'paused: no task',
      async () => !(await activeTasks(cluster)).some((t) => t.requestId === 'rolling'),
    );
    await callJson(`${url}/api/requests/request/rolling/unpause`, 'POST');
    await waitRunning(cluster, 'rolling', 2);
    await callJson(`${url}/api/requests/request/rolling`, 'DELETE');
    await waitFor(
      'request removed',
      async () => (await callJson(`${url}/api/requests/request/rolling`, 'GET')).status === 404,
    );
    expect((await activeTasks(cluster)).some((t) => t.requestId === 'rolling')).toBe(false);
    expect(agents.reduce((n, a) => n + a.liveTasks().length, 0)).toBe(0);
  });
});
