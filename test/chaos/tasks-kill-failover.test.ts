/**
 * An acknowledged kill survives the leader that accepted it (found by the chaos run, seed 11;
 * docs/chaos.md): the leader drains the kill intent and persists the task's kill reason in one
 * multi, but if its Kill never reached the agent (the agent was away) and the leader then dies,
 * the next leader must still kill the task — the intent is gone, the reason is all that is left.
 */
import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import {
  anyUrl,
  callJson,
  createService,
  shortAgentGraces,
  waitRunning,
} from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
// Long enough that the away agent is never declared lost: its task must end by the kill.
shortAgentGraces({ THALES_AGENT_RECONNECT_GRACE_MS: '30000', THALES_AGENT_LOST_MS: '30000' });

describe('kills across leader failover (simulated agents, real replicas)', () => {
  it('a kill decided by a leader that died before the agent heard it is carried out by the next', async () => {
    const cluster = await startCluster(zk());
    const [agent] = startSimAgents(cluster, ['sim-k']);
    await createService(cluster, 'victim', 1);
    const [task] = await waitRunning(cluster, 'victim', 1);
    const leader = await cluster.waitForLeader();

    agent!.stop(); // the Kill will have nowhere to go
    const kill = await callJson(`${anyUrl(cluster)}/api/tasks/task/${task!.id}`, 'DELETE');
    expect(kill.status).toBe(202);
    await waitFor('the kill decided and persisted', async () => {
      const t = await callJson(`${anyUrl(cluster)}/api/tasks/task/${task!.id}`, 'GET');
      return typeof t.body.killReason === 'string';
    });
    leader.replica.process.signal('SIGKILL');
    await cluster.waitForLeader({ aboveTerm: leader.term });
    agent!.start();

    await waitFor('the task killed by the new leader', () => agent!.kills.includes(task!.id), {
      timeoutMs: 30_000,
    });
    const ended = await waitFor('the task ended', async () => {
      const t = await callJson(`${anyUrl(cluster)}/api/tasks/task/${task!.id}`, 'GET');
      return t.body.state === 'TASK_KILLED' ? t.body : undefined;
    });
    expect(ended.killReason).toBe('killed through the API');
    expect(cluster.invariantViolations()).toEqual([]);
  });
});
