/**
 * Leader election among real `thales scheduler` processes on a real ZooKeeper: one leader,
 * terms that only go up, step-down, and gRPC answering what HTTP answers.
 */
import { isDeepStrictEqual } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ClusterStateView } from '../../src/api/index.js';
import { loadProto } from '../../src/runtime/index.js';
import type { ProtoGrpcType } from '../../src/gen/scheduler.js';
import type { ClusterState__Output as ClusterState } from '../../src/gen/thales/v1/ClusterState.js';
import { startCluster, useZooKeeper, waitFor, type TestCluster } from '../harness/index.js';

const zookeeper = useZooKeeper(1);

function expectNoSplitBrain(cluster: TestCluster): void {
  expect(cluster.poller.rounds).toBeGreaterThan(0);
  expect(cluster.invariantViolations()).toEqual([]);
  // The heartbeat monitor did watch: it saw at least the first leader's writes.
  expect(cluster.heartbeats?.history.length).toBeGreaterThan(0);
}

async function stepDown(url: string): Promise<{ steppedDown: boolean }> {
  const res = await fetch(`${url}/api/leader/step-down`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as { steppedDown: boolean };
}

describe('leader election', () => {
  it('3 replicas elect exactly one leader; killing a follower changes nothing', async () => {
    const cluster = await startCluster(zookeeper(), { replicas: 3 });
    const leader = await cluster.waitForLeader();
    expect(leader.term).toBeGreaterThan(0);

    const states = await Promise.all(cluster.replicas.map((r) => cluster.state(r)));
    expect(states.filter((s) => s?.role === 'LEADER')).toHaveLength(1);
    for (const s of states) {
      expect(s?.view).toBe('FRESH');
      expect(s?.replicas.map((r) => r.replicaId).sort()).toEqual([
        'replica-1',
        'replica-2',
        'replica-3',
      ]);
      expect(s?.replicas.filter((r) => r.role === 'LEADER').map((r) => r.replicaId)).toEqual([
        leader.replicaId,
      ]);
    }

    const follower = cluster.replicas.find((r) => r.id !== leader.replicaId);
    if (!follower) throw new Error('no follower');
    follower.process.signal('SIGKILL');
    await follower.process.waitExit();
    const others = cluster.replicas.filter((r) => r !== follower);
    // Once the follower's session is gone from everyone's view, the leader is still the same.
    await waitFor(
      'the killed follower to leave the view',
      async () => {
        const s = await Promise.all(others.map((r) => cluster.state(r)));
        return s.every((x) => x && !x.replicas.some((r) => r.replicaId === follower.id));
      },
      { timeoutMs: 20_000 },
    );
    const after = await cluster.waitForLeader({ among: others });
    expect(after).toMatchObject({ replicaId: leader.replicaId, term: leader.term });
    expectNoSplitBrain(cluster);
  });

  it('the term strictly increases with every leadership change', async () => {
    const cluster = await startCluster(zookeeper(), { replicas: 3 });
    let leader = await cluster.waitForLeader();
    const terms = [leader.term];
    const leaders = [leader.replicaId];
    for (let i = 0; i < 4; i++) {
      expect(await stepDown(leader.replica.url)).toEqual({ steppedDown: true });
      leader = await cluster.waitForLeader({ aboveTerm: leader.term });
      terms.push(leader.term);
      leaders.push(leader.replicaId);
    }
    for (let i = 1; i < terms.length; i++) {
      expect(terms[i]).toBeGreaterThan(terms[i - 1] as number);
    }
    // Consecutive leaders differ: the one that stepped down went to the back of the queue.
    for (let i = 1; i < leaders.length; i++) expect(leaders[i]).not.toBe(leaders[i - 1]);
    // /leader/term in ZooKeeper agrees with what the APIs report.
    const zk = await cluster.coordinator();
    const stored = JSON.parse((await zk.get('/leader/term')).data.toString()) as {
      term: number;
      leaderId: string;
    };
    expect(stored).toMatchObject({ term: leader.term, leaderId: leader.replicaId });
    expectNoSplitBrain(cluster);
  });

  it('step-down on the leader: another replica leads, the old one stays up as a follower', async () => {
    const cluster = await startCluster(zookeeper(), { replicas: 3 });
    const before = await cluster.waitForLeader();
    expect(await stepDown(before.replica.url)).toEqual({ steppedDown: true });
    const after = await cluster.waitForLeader({ aboveTerm: before.term });
    expect(after.replicaId).not.toBe(before.replicaId);

    expect(before.replica.process.running).toBe(true);
    const old = await cluster.state(before.replica);
    expect(old).toMatchObject({ role: 'FOLLOWER', view: 'FRESH' });
    expect(old?.leader).toMatchObject({ replicaId: after.replicaId, term: after.term });
    expect(old?.replicas.map((r) => r.replicaId)).toContain(before.replicaId);
    // A follower asked to step down says it did not.
    expect(await stepDown(before.replica.url)).toEqual({ steppedDown: false });
    const health = await fetch(`${before.replica.url}/health`);
    expect(health.status).toBe(200);
    expectNoSplitBrain(cluster);
  });

  it('gRPC Scheduler.GetState answers the same state as GET /api/state', async () => {
    const cluster = await startCluster(zookeeper(), { replicas: 2 });
    await cluster.waitForLeader();
    const proto = loadProto<ProtoGrpcType>('scheduler.proto');
    for (const r of cluster.replicas) {
      const client = new proto.thales.v1.Scheduler(
        `127.0.0.1:${r.grpcPort}`,
        grpc.credentials.createInsecure(),
      );
      try {
        // The two calls are two instants: wait until both answer and agree (a follower's view
        // may still be filling in, its gRPC port may not listen yet right after the election).
        const both = await waitFor(
          `replica ${r.id}: gRPC and HTTP state agree`,
          async () => {
            const viaGrpc = await new Promise<ClusterState | undefined>((resolve) =>
              client.GetState({}, { deadline: Date.now() + 2_000 }, (err, res) =>
                resolve(err ? undefined : res),
              ),
            );
            const viaHttp = (await cluster.state(r)) as ClusterStateView;
            if (!viaGrpc) return undefined;
            return isDeepStrictEqual(normalize(viaGrpc), normalize(viaHttp))
              ? { viaGrpc, viaHttp }
              : undefined;
          },
          { timeoutMs: 20_000 },
        );
        expect(normalize(both.viaGrpc)).toEqual(normalize(both.viaHttp));
        expect(both.viaGrpc.replicaId).toBe(r.id);
      } finally {
        client.close();
      }
    }
    expectNoSplitBrain(cluster);
  });
});

/** Both forms as plain JSON with replicas in a stable order. */
function normalize(s: ClusterState | ClusterStateView): unknown {
  const plain = JSON.parse(JSON.stringify(s)) as { replicas?: { replicaId: string }[] };
  plain.replicas?.sort((a, b) => a.replicaId.localeCompare(b.replicaId));
  return plain;
}
