import { readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import {
  activeTasks,
  anyUrl,
  assertDistinctInstances,
  callJson,
  shortAgentGraces,
  waitRunning,
} from '../harness/tasks-cluster.js';
import { scanLiveProcesses } from '../harness/agent-process.js';
import { processesWithTaskId, startRealAgent } from '../harness/tasks-real-agents.js';

const zk = useZooKeeper();
// Real agents back off up to 5 s between attempts while there is no leader.
shortAgentGraces({ THALES_AGENT_RECONNECT_GRACE_MS: '15000' });

/**
 * TASK_IDs of every live process started for `requestId` (from /proc environments) by this
 * test's agents: a task runs in its sandbox, under the agent's work dir.
 */
function liveTaskProcesses(requestId: string, workDirs: string[]): Map<string, number> {
  const count = new Map<string, number>();
  const found = scanLiveProcesses((proc) => {
    const cwd = readlinkSync(`${proc}/cwd`);
    if (!workDirs.some((d) => cwd.startsWith(`${d}/`))) return undefined;
    const env = readFileSync(`${proc}/environ`, 'latin1');
    return new RegExp(`(?:^|\\0)TASK_ID=(${requestId}-[^\\0]+)`).exec(env)?.[1];
  });
  for (const { value } of found) count.set(value, (count.get(value) ?? 0) + 1);
  return count;
}

describe('leader failover with real agents and processes', () => {
  it('SIGKILL of the leader while scaling 0 → 50: exactly 50 processes, one per task, distinct instances', async () => {
    const cluster = await startCluster(zk());
    const agents = await Promise.all([
      startRealAgent(cluster, 'agent-a'),
      startRealAgent(cluster, 'agent-b'),
    ]);
    const dirs = agents.map((a) => a.workDir);
    const leader = await cluster.waitForLeader();
    const url = anyUrl(cluster);
    await callJson(`${url}/api/requests`, 'POST', {
      id: 'many',
      requestType: 'SERVICE',
      instances: 0,
    });
    await callJson(`${url}/api/deploys`, 'POST', {
      deploy: {
        requestId: 'many',
        id: 'v1',
        command: 'sleep',
        arguments: ['600'],
        resources: { cpus: 0.02, memoryMb: 8 },
      },
    });
    await waitFor('deploy active', async () => {
      const r = await callJson(`${url}/api/requests/request/many`, 'GET');
      return r.body.activeDeploy?.id === 'v1';
    });
    const follower = cluster.replicas.find((r) => r.id !== leader.replicaId)!;
    await callJson(`${follower.url}/api/requests/request/many/scale`, 'PUT', { instances: 50 });
    await waitFor('a first task process', () => liveTaskProcesses('many', dirs).size > 0, {
      intervalMs: 10,
    });
    leader.replica.process.signal('SIGKILL');
    await cluster.waitForLeader({ aboveTerm: leader.term });

    const tasks = await waitRunning(cluster, 'many', 50, 120_000);
    assertDistinctInstances(tasks);
    // Exactly one live process per active task, and none for anything else.
    const procs = await waitFor(
      '50 task processes',
      () => {
        const p = liveTaskProcesses('many', dirs);
        return p.size === 50 ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect([...procs.keys()].sort()).toEqual(tasks.map((t) => t.id).sort());
    expect([...procs.values()].every((n) => n === 1)).toBe(true);
    for (const t of tasks.slice(0, 3)) expect(processesWithTaskId(t.id)).toHaveLength(1);
    expect((await activeTasks(cluster)).filter((t) => t.requestId === 'many')).toHaveLength(50);
    expect(cluster.poller.violations).toEqual([]);
  });
});
