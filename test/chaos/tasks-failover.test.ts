import { describe, expect, it } from 'vitest';
import { fetchJson, startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import type { ClusterStateView } from '../../src/api/index.js';
import { type SimAgent, startSimAgents } from '../harness/sim-agent.js';
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

/** Every task id live on some agent, and on which agents each was ever launched. */
function agentView(agents: SimAgent[]) {
  const live = agents.flatMap((a) => a.liveTasks().map((t) => t.spec));
  const launchedOn = new Map<string, Set<string>>();
  for (const a of agents) {
    for (const l of a.launches) {
      const set = launchedOn.get(l.taskId) ?? new Set<string>();
      set.add(a.o.agentId);
      launchedOn.set(l.taskId, set);
    }
  }
  return { live, launchedOn };
}

describe('tasks across leader failover (simulated agents, real replicas)', () => {
  it('SIGKILL of the leader while scaling 0 → 50: exactly 50 running, distinct, none launched twice', async () => {
    const cluster = await startCluster(zk());
    const agents = startSimAgents(cluster, ['sim-a', 'sim-b', 'sim-c']);
    const leader = await cluster.waitForLeader();
    await createService(cluster, 'scale', 0);
    await waitFor('deploy accepted', async () => {
      const r = await callJson(`${anyUrl(cluster)}/api/requests/request/scale`, 'GET');
      return r.body.activeDeploy?.id === 'd1';
    });
    // Scale through a follower, and kill the leader as soon as the first launch lands.
    const follower = cluster.replicas.find((r) => r.id !== leader.replicaId)!;
    await callJson(`${follower.url}/api/requests/request/scale/scale`, 'PUT', { instances: 50 });
    await waitFor('a first launch', () => agents.some((a) => a.launches.length > 0), {
      intervalMs: 1,
    });
    leader.replica.process.signal('SIGKILL');
    const next = await cluster.waitForLeader({ aboveTerm: leader.term });
    expect(next.replicaId).not.toBe(leader.replicaId);

    const tasks = await waitRunning(cluster, 'scale', 50, 90_000);
    assertDistinctInstances(tasks);
    expect(new Set(tasks.map((t) => t.instanceNo)).size).toBe(50);
    await waitFor('agents agree with the cluster', () => {
      const { live } = agentView(agents);
      return live.length === 50 || undefined;
    });
    const { live, launchedOn } = agentView(agents);
    // Every active task runs on exactly one agent, and nothing else runs.
    expect(live.map((s) => s.taskId).sort()).toEqual(tasks.map((t) => t.id).sort());
    expect(new Set(live.map((s) => s.instanceNo)).size).toBe(50);
    for (const [taskId, on] of launchedOn) expect([taskId, on.size]).toEqual([taskId, 1]);
    expect(cluster.poller.violations).toEqual([]);
  });

  it('a deposed leader (SIGSTOP past its session, then SIGCONT) launches nothing and ZooKeeper refuses its writes', async () => {
    const cluster = await startCluster(zk(), { debugApi: true });
    const agents = startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'dep', 2);
    await waitRunning(cluster, 'dep', 2);
    const old = await cluster.waitForLeader();
    old.replica.process.signal('SIGSTOP');
    const others = cluster.replicas.filter((r) => r.id !== old.replicaId);
    const next = await cluster.waitForLeader({ aboveTerm: old.term, among: others });
    // While the old leader sleeps, the new one scales the request up.
    await callJson(`${others[0]!.url}/api/requests/request/dep/scale`, 'PUT', { instances: 6 });
    await waitRunning(cluster, 'dep', 6, 60_000);
    const launchesOfOldTerm = (): number =>
      agents.reduce((n, a) => n + a.launchTerms.filter((t) => t <= old.term).length, 0);
    const before = launchesOfOldTerm();
    // An agent still streaming to the paused leader has not seen the new term yet (it notices
    // the pause by keepalive); wait until every agent has, so the refusal path is exercised.
    await waitFor(
      'every agent on the new term',
      () => agents.every((a) => a.highestTerm >= next.term),
      { timeoutMs: 60_000 },
    );
    old.replica.process.signal('SIGCONT');
    await waitFor('the old leader back as a follower', async () => {
      const s = await fetchJson<ClusterStateView>(`${old.replica.url}/api/state`, 1_000);
      return s?.role === 'FOLLOWER' && s.leader?.replicaId === next.replicaId;
    });
    const probe = await callJson(`${old.replica.url}/api/debug/fenced-write`, 'POST');
    expect(probe.body).toMatchObject({ term: old.term, accepted: false });
    expect(launchesOfOldTerm()).toBe(before);
    // Nothing the agents run comes from the old term after the new one was seen.
    for (const a of agents) expect(a.highestTerm).toBeGreaterThanOrEqual(next.term);
    const tasks = await waitRunning(cluster, 'dep', 6);
    assertDistinctInstances(tasks);
    // An agent that reconnected after the new leader's grace still runs the tasks it declared
    // LOST until the kills it is sent land: the agents converge on exactly the active tasks.
    const active = tasks.map((t) => t.id).sort();
    await waitFor('the agents run exactly the active tasks', () => {
      const { live } = agentView(agents);
      return JSON.stringify(live.map((t) => t.taskId).sort()) === JSON.stringify(active);
    });
  });

  it('a task that exits while leadership moves is recorded with its real final state', async () => {
    const cluster = await startCluster(zk());
    const agents = startSimAgents(cluster, ['sim-a']);
    await createService(cluster, 'exit', 2);
    const tasks = await waitRunning(cluster, 'exit', 2);
    const old = await cluster.waitForLeader();
    old.replica.process.signal('SIGKILL');
    // The task ends while there is no leader: the update waits in the agent's outbox.
    const victim = tasks[0]!;
    agents[0]!.finish(victim.id, 'TASK_FINISHED', 0);
    await cluster.waitForLeader({ aboveTerm: old.term });
    await waitFor('the update acknowledged', () => agents[0]!.unacked === 0, { timeoutMs: 30_000 });
    const rec = await callJson(`${anyUrl(cluster)}/api/tasks/task/${victim.id}`, 'GET');
    expect(rec.body.state).toBe('TASK_FINISHED');
    expect(rec.body.updates.at(-1).exitCode).toBe(0);
    // And it is replaced (SERVICE tasks are long-running).
    const after = await waitRunning(cluster, 'exit', 2);
    expect(after.some((t) => t.id === victim.id)).toBe(false);
    expect((await activeTasks(cluster)).length).toBe(2);
  });
});
