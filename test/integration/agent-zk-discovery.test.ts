import { afterEach, describe, expect, it } from 'vitest';
import { encodeJson } from '../../src/coordination/index.js';
import { FakeLeaderForAgentTests } from '../harness/agent-fake-leader.js';
import { makeAgentWorkDir, startAgentProcess } from '../harness/agent-process.js';
import { connectCoordinator, uniqueChroot, useZooKeeper } from '../harness/index.js';

const zk = useZooKeeper();
let leader: FakeLeaderForAgentTests | undefined;
afterEach(() => leader?.stop());

describe('agent leader discovery through ZooKeeper (real ZooKeeper; test-double leader)', () => {
  it('finds the leader from the lowest /leader/latch-* znode under its chroot', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const chroot = uniqueChroot();
    const coordinator = await connectCoordinator(zk().connectString, chroot);
    await coordinator.mkdirp('/leader');
    const latch = { replicaId: 'r1', httpAddress: '127.0.0.1:1', grpcAddress: leader.address };
    await coordinator.create('/leader/latch-0000000001', encodeJson(latch));
    // A later latch (a follower) with an unreachable address must not be picked.
    const follower = { replicaId: 'r2', httpAddress: '127.0.0.1:1', grpcAddress: '127.0.0.1:1' };
    await coordinator.create('/leader/latch-0000000002', encodeJson(follower));

    const agent = await startAgentProcess(makeAgentWorkDir(), '', [
      '--zk',
      zk().connectString,
      '--chroot',
      chroot,
    ]);
    const reg = await leader.waitForRegister(1);
    expect(reg.httpAddress).toBe(agent.httpUrl.replace('http://', ''));
  });
});
