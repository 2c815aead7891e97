import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import { activeTasks, anyUrl, callJson, shortAgentGraces } from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

describe('crash loops (simulated agents, real replicas)', () => {
  it('tasks that keep failing are relaunched with back-off, then the request goes to SYSTEM_COOLDOWN', async () => {
    const cluster = await startCluster(zk(), { replicas: 1 });
    // Every task fails right after it starts.
    const [agent] = startSimAgents(cluster, ['sim-crash'], {
      onLaunch: ['TASK_STARTING', 'TASK_FAILED'],
    });
    const url = anyUrl(cluster);
    await callJson(`${url}/api/requests`, 'POST', {
      id: 'crashy',
      requestType: 'SERVICE',
      instances: 2,
    });
    // Retries allowed: the deploy keeps replacing failed tasks (with back-off) instead of
    // failing at the first one (a deploy that fails rolls back instead: deploys-commands).
    const deployed = await callJson(`${url}/api/deploys`, 'POST', {
      deploy: {
        requestId: 'crashy',
        id: 'd1',
        command: 'sleep',
        arguments: ['1000'],
        resources: { cpus: 0.1, memoryMb: 16, numPorts: 1 },
        maxTaskRetries: 100,
      },
    });
    expect(deployed.status).toBe(200);
    const cooled = await waitFor(
      'SYSTEM_COOLDOWN',
      async () => {
        const r = await callJson(`${url}/api/requests/request/crashy`, 'GET');
        return r.body.state === 'SYSTEM_COOLDOWN' ? r.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(cooled.stateMessage).toContain('crash-looping');
    // In cooldown nothing is launched any more.
    const launched = agent!.launches.length;
    expect(launched).toBeGreaterThanOrEqual(5);
    // Back-off: each instance waits 1 s, then 2 s… before its next launch (ids carry launch ms).
    for (const n of [1, 2]) {
      const at = agent!.launches
        .filter((l) => l.instanceNo === n)
        .map((l) => Number(l.taskId.split('-')[2]));
      for (let i = 1; i < at.length; i++) {
        expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_000 * 2 ** (i - 1));
      }
    }
    await waitFor('no active task', async () => (await activeTasks(cluster)).length === 0);
    const history = await callJson(`${url}/api/history/request/crashy/tasks`, 'GET');
    expect(history.body.length).toBe(launched);
    expect(history.body.every((t: { state: string }) => t.state === 'TASK_FAILED')).toBe(true);
    expect(agent!.launches.length).toBe(launched);
  });
});
