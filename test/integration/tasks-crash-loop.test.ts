import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import {
  activeTasks,
  anyUrl,
  callJson,
  createService,
  shortAgentGraces,
} from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

describe('crash loops (simulated agents, real replicas)', () => {
  it('tasks that keep failing are relaunched with back-off, then the request goes to SYSTEM_COOLDOWN', async () => {
    const cluster = await startCluster(zk(), { replicas: 1 });
    // Every task fails right after it starts.
    const [agent] = startSimAgents(cluster, ['sim-crash'], {
      onLaunch: ['TASK_STARTING', 'TASK_FAILED'],
    });
    await createService(cluster, 'crashy', 2);
    const url = anyUrl(cluster);
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
