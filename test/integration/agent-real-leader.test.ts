import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeJson, zkPaths } from '../../src/coordination/index.js';
import { ensureStateDirs } from '../../src/state/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { makeAgentWorkDir, startAgentProcess } from '../harness/agent-process.js';
import { startCluster, useZooKeeper } from '../harness/index.js';

const zk = useZooKeeper();

describe('agent against real scheduler replicas (real ZooKeeper, replicas and agent)', () => {
  it('is sent on by a follower, registers with the leader, which records it in /agents', async () => {
    const cluster = await startCluster(zk(), { replicas: 2 });
    const leader = await cluster.waitForLeader();
    const coordinator = await cluster.coordinator();
    // The state dirs exist once any request was created; on a brand-new cluster the leader
    // does not create /agents itself yet (reported to the leader side), so do what the
    // request API would.
    await ensureStateDirs(coordinator);
    const follower = cluster.replicas.find((r) => r.id !== leader.replicaId)!;
    // The follower first: it must answer NotLeader with the leader's address.
    const scheduler = [follower, leader.replica].map((r) => `127.0.0.1:${r.grpcPort}`).join(',');
    const agent = await startAgentProcess(makeAgentWorkDir(), scheduler, ['--rack', 'r1']);

    await waitFor('agent connected', async () => {
      const h = await fetchJson<{ connected: boolean }>(`${agent.httpUrl}/health`);
      return h?.connected;
    });
    const { agentId, highestTerm } = JSON.parse(readFileSync(agent.layout.agentJson, 'utf8')) as {
      agentId: string;
      highestTerm: number;
    };
    expect(highestTerm).toBe(leader.term);
    const node = await waitFor(
      '/agents/<id>',
      async () => (await coordinator.getOrNull(zkPaths.agent(agentId))) ?? undefined,
    );
    const record = decodeJson<{ rack: string; httpAddress: string; state: string }>(
      node.data,
      'agent',
    );
    expect(record).toMatchObject({
      rack: 'r1',
      httpAddress: agent.httpUrl.replace('http://', ''),
      state: 'ACTIVE',
    });
  });
});
