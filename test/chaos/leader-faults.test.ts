/**
 * Losing the leader process: graceful stop, crash, and a pause past the session timeout.
 * Real replicas, real ZooKeeper, real signals. Time bounds are generous and behavioural
 * (before vs. after the session timeout), never a speed goal: those live in bench/failover.
 */
import { describe, expect, it } from 'vitest';
import { watchNode } from '../../src/coordination/index.js';
import {
  expectNoSplitBrain,
  startCluster,
  useZooKeeper,
  waitFor,
  type TestCluster,
} from '../harness/index.js';

const zookeeper = useZooKeeper(1);

/**
 * A cluster whose replicas all came up. startCluster waits only for the running ones to
 * agree; a replica that exited at start (a free port taken by another test in between) would
 * make a later "agreed by all" wait time out for a reason that has nothing to do with
 * leadership, so it is reported as what it is.
 */
async function startReplicas(options: Parameters<typeof startCluster>[1]): Promise<TestCluster> {
  const cluster = await startCluster(zookeeper(), options);
  const exited = cluster.replicas.filter((r) => !r.process.running);
  expect(exited.map((r) => `${r.id} exited at start: ${cluster.logTail(r, 3)}`)).toEqual([]);
  return cluster;
}

describe('leader faults', () => {
  it('SIGTERM on the leader: a follower leads well before the session timeout', async () => {
    const sessionTimeoutMs = 10_000;
    const cluster = await startReplicas({ replicas: 3, sessionTimeoutMs });
    const before = await cluster.waitForLeader();
    const others = cluster.replicas.filter((r) => r.id !== before.replicaId);

    const signalled = Date.now();
    before.replica.process.signal('SIGTERM');
    const after = await cluster.waitForLeader({
      aboveTerm: before.term,
      among: others,
      timeoutMs: sessionTimeoutMs / 2,
    });
    const tookMs = Date.now() - signalled;
    expect(after.replicaId).not.toBe(before.replicaId);
    expect(tookMs).toBeLessThan(sessionTimeoutMs / 2);
    // The old leader exits cleanly.
    expect(await before.replica.process.waitExit()).toBe(0);
    expectNoSplitBrain(cluster);
  });

  it('SIGKILL on the leader: a follower leads only once the session has expired', async () => {
    const sessionTimeoutMs = 3_000;
    const cluster = await startReplicas({ replicas: 3, sessionTimeoutMs });
    const before = await cluster.waitForLeader();
    const others = cluster.replicas.filter((r) => r.id !== before.replicaId);

    const signalled = Date.now();
    before.replica.process.signal('SIGKILL');
    const after = await cluster.waitForLeader({
      aboveTerm: before.term,
      among: others,
      timeoutMs: sessionTimeoutMs * 5,
    });
    const tookMs = Date.now() - signalled;
    expect(after.replicaId).not.toBe(before.replicaId);
    // The dead leader's session was last renewed at most a ping interval (timeout/3) before
    // the kill, so ZooKeeper cannot expire it sooner than about 2/3 of the timeout.
    expect(tookMs).toBeGreaterThanOrEqual(sessionTimeoutMs * (2 / 3) - 200);
    expectNoSplitBrain(cluster);
  });

  it('SIGSTOP past the session timeout, then SIGCONT: the old leader rejoins as a follower and is fenced', async () => {
    const sessionTimeoutMs = 2_000;
    const cluster = await startReplicas({
      replicas: 3,
      sessionTimeoutMs,
      debugApi: true,
    });
    const before = await cluster.waitForLeader();
    const old = before.replica;
    const others = cluster.replicas.filter((r) => r !== old);

    // Every value /leader/heartbeat takes, as seen from an independent session.
    const zk = await cluster.coordinator();
    const heartbeatTerms: number[] = [];
    const unwatch = watchNode(zk, '/leader/heartbeat', (n) => {
      if (n) heartbeatTerms.push((JSON.parse(n.data.toString()) as { term: number }).term);
    });
    await waitFor('a heartbeat of the first term', () => heartbeatTerms.includes(before.term));

    old.process.signal('SIGSTOP');
    // "Past its session timeout": the others elect a new leader only once it has expired.
    const after = await cluster.waitForLeader({
      aboveTerm: before.term,
      among: others,
      timeoutMs: 30_000,
    });
    await waitFor('a heartbeat of the new term', () => heartbeatTerms.includes(after.term));
    old.process.signal('SIGCONT');

    const rejoined = await waitFor(
      'the old leader to report FOLLOWER of the new leader',
      async () => {
        const s = await cluster.state(old);
        return s?.role === 'FOLLOWER' &&
          s.view === 'FRESH' &&
          s.leader?.replicaId === after.replicaId &&
          s.leader.term === after.term &&
          s.replicas.some((r) => r.replicaId === old.id) // registered again, new session
          ? s
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(rejoined.term).toBe(after.term);

    // Its last leadership's fenced writer is refused by ZooKeeper.
    const res = await fetch(`${old.url}/api/debug/fenced-write`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ term: before.term, accepted: false, error: 'FENCED' });
    const metrics = await (await fetch(`${old.url}/metrics`)).text();
    const fenced = /thales_fenced_writes_total\{[^}]*result="fenced"[^}]*\} (\d+)/.exec(metrics);
    expect(Number(fenced?.[1] ?? 0)).toBeGreaterThanOrEqual(1);

    // The leadership it lost never wrote again: once the new term appeared, the heartbeat
    // never went back to an older term.
    const still = await cluster.waitForLeader({ among: cluster.replicas });
    expect(still.replicaId).toBe(after.replicaId);
    await waitFor('one more heartbeat', () => heartbeatTerms.length > 0);
    unwatch();
    const firstNew = heartbeatTerms.indexOf(after.term);
    expect(firstNew).toBeGreaterThan(0);
    expect(heartbeatTerms.slice(firstNew).every((t) => t >= after.term)).toBe(true);
    expectNoSplitBrain(cluster);
  });
  it('a short SIGSTOP of the leader (well within the session timeout) changes nothing', async () => {
    const sessionTimeoutMs = 6_000;
    const cluster = await startReplicas({ replicas: 3, sessionTimeoutMs });
    const before = await cluster.waitForLeader();
    before.replica.process.signal('SIGSTOP');
    // Letting time pass is the point here: a pause a sixth of the session timeout long.
    await new Promise((r) => setTimeout(r, sessionTimeoutMs / 6));
    before.replica.process.signal('SIGCONT');
    const after = await cluster.waitForLeader();
    expect(after).toMatchObject({ replicaId: before.replicaId, term: before.term });
    expectNoSplitBrain(cluster);
  });

  it('a follower paused past its session timeout rejoins; the leader is undisturbed', async () => {
    const cluster = await startReplicas({ replicas: 3, sessionTimeoutMs: 2_000 });
    const before = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r.id !== before.replicaId);
    if (!follower) throw new Error('no follower');
    const others = cluster.replicas.filter((r) => r !== follower);
    follower.process.signal('SIGSTOP');
    await waitFor(
      "the paused follower to drop out of the others' view (session expired)",
      async () => {
        const s = await Promise.all(others.map((r) => cluster.state(r)));
        return s.every((x) => x && !x.replicas.some((r) => r.replicaId === follower.id));
      },
      { timeoutMs: 30_000 },
    );
    follower.process.signal('SIGCONT');
    await waitFor(
      "the follower to be back in everyone's view",
      async () => {
        const s = await Promise.all(cluster.replicas.map((r) => cluster.state(r)));
        return s.every((x) => x?.replicas.some((r) => r.replicaId === follower.id));
      },
      { timeoutMs: 30_000 },
    );
    const after = await cluster.waitForLeader();
    expect(after).toMatchObject({ replicaId: before.replicaId, term: before.term });
    expectNoSplitBrain(cluster);
  });
  it('a crashed leader restarted at once under the same id: one leader, higher term', async () => {
    const cluster = await startReplicas({ replicas: 3, sessionTimeoutMs: 2_000 });
    const before = await cluster.waitForLeader();
    before.replica.process.signal('SIGKILL');
    await before.replica.process.waitExit();
    // Same id, same ports, while its old session (and latch znode) still lives in ZooKeeper.
    before.replica.process.start();
    const after = await cluster.waitForLeader({ aboveTerm: before.term, timeoutMs: 30_000 });
    const states = await Promise.all(cluster.replicas.map((r) => cluster.state(r)));
    expect(states.filter((s) => s?.role === 'LEADER')).toHaveLength(1);
    for (const s of states) {
      // The old session's registration is gone: the id is listed once.
      expect(s?.replicas.filter((r) => r.replicaId === before.replicaId)).toHaveLength(1);
      expect(s?.leader).toMatchObject({ replicaId: after.replicaId, term: after.term });
    }
    expectNoSplitBrain(cluster);
  });
});
