import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson } from '../../src/coordination/index.js';
import { FakeLeaderForAgentTests } from '../harness/agent-fake-leader.js';
import { makeAgentWorkDir, startAgentProcess } from '../harness/agent-process.js';
import {
  connectCoordinator,
  startCluster,
  uniqueChroot,
  useZooKeeper,
  waitFor,
} from '../harness/index.js';

const zk = useZooKeeper();

function agentLog(workDir: string): string {
  return readFileSync(path.join(workDir, 'agent.log'), 'utf8');
}

describe('agent leader switch', () => {
  it('leaves a leader the latch no longer names, although its stream still answers (test-double leaders)', async () => {
    const a = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const b = await new FakeLeaderForAgentTests({ term: 2 }).start();
    try {
      const chroot = uniqueChroot();
      const admin = await connectCoordinator(zk().connectString, chroot);
      await admin.mkdirp('/leader');
      // Each "replica" holds its latch znode in a session of its own, as real replicas do.
      const sessionA = await connectCoordinator(zk().connectString, chroot);
      const sessionB = await connectCoordinator(zk().connectString, chroot);
      const latch = (id: string, grpcAddress: string) =>
        encodeJson({ replicaId: id, httpAddress: '127.0.0.1:1', grpcAddress });
      await sessionA.create('/leader/latch-', latch('a', a.address), 'ephemeralSequential');
      await sessionB.create('/leader/latch-', latch('b', b.address), 'ephemeralSequential');

      const workDir = makeAgentWorkDir();
      await startAgentProcess(workDir, '', ['--zk', zk().connectString, '--chroot', chroot]);
      await a.waitForRegister(1);

      // A's session ends (as when ZooKeeper expires a paused leader's): its latch znode goes.
      // A itself keeps serving, so only the latch can tell the agent to move.
      await sessionA.close();
      const reg = await b.waitForRegister(1);
      expect(reg.highestTerm).toBe(1);
      await waitFor('the agent to close its stream to A', () => a.endedStreams > 0);
      expect(agentLog(workDir)).toContain(`the leader latch names ${b.address}`);
    } finally {
      a.stop();
      b.stop();
    }
  });

  it('SIGSTOP of the leader: the agent registers with the new leader well before keepalive would notice', async () => {
    const cluster = await startCluster(zk(), { sessionTimeoutMs: 2_000 });
    const workDir = makeAgentWorkDir();
    await startAgentProcess(workDir, '', [
      ...['--zk', zk().connectString, '--chroot', cluster.chroot, '--agent-id', 'pause-1'],
    ]);
    const leader = await cluster.waitForLeader();
    const zkAdmin = await cluster.coordinator();
    const registeredAt = async (): Promise<number | undefined> => {
      const node = await zkAdmin.getOrNull('/agents/pause-1');
      return node
        ? decodeJson<{ registeredAt: number }>(node.data, 'agent').registeredAt
        : undefined;
    };
    await waitFor('the agent registered', registeredAt);

    const pausedAt = Date.now();
    leader.replica.process.signal('SIGSTOP');
    try {
      const others = cluster.replicas.filter((r) => r !== leader.replica);
      const next = await cluster.waitForLeader({ aboveTerm: leader.term, among: others });
      // Only the new leader can write after the pause (the old one is stopped and fenced).
      const at = await waitFor(
        'the agent to register with the new leader',
        async () => {
          const t = await registeredAt();
          return t !== undefined && t > pausedAt ? t : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const log = agentLog(workDir);
      expect(log).toMatch(new RegExp(`the leader latch names [^"]*:${next.replica.grpcPort}"`));
      // gRPC keepalive (ping every 10 s, 10 s to answer) could not have noticed this soon;
      // the bound is generous, the figure itself is in `npm run bench -- failover`.
      expect(at - pausedAt).toBeLessThan(15_000);
    } finally {
      leader.replica.process.signal('SIGCONT');
    }
    // The deposed leader resumes, finds its session expired and follows; no split brain.
    await cluster.waitForLeader({ aboveTerm: leader.term });
    expect(cluster.invariantViolations()).toEqual([]);
  });
});
