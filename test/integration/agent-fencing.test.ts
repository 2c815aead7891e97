import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/dev/wait-for.js';
import { FakeLeaderForAgentTests } from '../harness/agent-fake-leader.js';
import { makeAgentWorkDir, startAgentProcess, testTask } from '../harness/agent-process.js';
import { runThales } from '../harness/cli.js';

const leaders: FakeLeaderForAgentTests[] = [];
afterEach(() => {
  for (const l of leaders.splice(0)) l.stop();
});

async function fakeLeader(
  term: number,
  notLeaderAddress?: string,
): Promise<FakeLeaderForAgentTests> {
  const l = await new FakeLeaderForAgentTests({
    term,
    ...(notLeaderAddress ? { notLeaderAddress } : {}),
  }).start();
  leaders.push(l);
  return l;
}

describe('agent fencing and leader discovery (real agent; test-double leaders)', () => {
  it('after seeing term 5, a Launch stamped with term 4 is refused and starts nothing', async () => {
    const leader = await fakeLeader(5);
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    // The term is persisted before the agent acts on anything from that leader.
    await waitFor('term 5 persisted', () => {
      const id = JSON.parse(readFileSync(agent.layout.agentJson, 'utf8')) as {
        highestTerm: number;
      };
      return id.highestTerm === 5;
    });
    leader.launch(testTask('stale-1', 'echo should-not-run'), 4);
    // Refusal closes the stream; the agent comes back registering with term 5.
    const again = await leader.waitForRegister(2);
    expect(again.highestTerm).toBe(5);
    expect(existsSync(agent.layout.sandbox('stale-1'))).toBe(false);
    const metrics = await fetch(`${agent.httpUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/thales_agent_refused_term_total\{[^}]*\} 1/);

    // The same launch at the current term runs.
    leader.launch(testTask('fresh-1', 'echo ran'));
    await leader.waitForStatus('fresh-1', 'TASK_FINISHED');
    expect(leader.statuses.some((s) => s.taskId === 'stale-1')).toBe(false);
  });

  it('a follower answering NotLeader sends the agent to the leader it names', async () => {
    const leader = await fakeLeader(3);
    const follower = await fakeLeader(3, leader.address);
    await startAgentProcess(makeAgentWorkDir(), follower.address);
    const reg = await leader.waitForRegister(1);
    expect(reg.agentId).toMatch(/-[0-9a-f]{6}$/);
    expect(follower.registers).toEqual([]);
    await waitFor('heartbeats to the leader', () => leader.heartbeats >= 2);
  });

  it('keeps its generated agent id across restarts', async () => {
    const leader = await fakeLeader(1);
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    const first = await leader.waitForRegister(1);
    await agent.proc.stop();
    agent.proc.start();
    const second = await leader.waitForRegister(2);
    expect(second.agentId).toBe(first.agentId);
  });

  it.each([
    [['--scheduler', '127.0.0.1:1'], '--work-dir'],
    [['--work-dir', '/tmp/x'], '--scheduler'],
    [['--work-dir', '/tmp/x', '--scheduler', 'no-port'], '--scheduler'],
    [['--work-dir', '/tmp/x', '--scheduler', 'h:1', '--ports', '9-3'], '--ports'],
    [['--work-dir', '/tmp/x', '--scheduler', 'h:1', '--cpus', 'lots'], '--cpus'],
    [['--work-dir', '/tmp/x', '--scheduler', 'h:1', '--attribute', 'novalue'], '--attribute'],
    [['--work-dir', '/tmp/x', '--scheduler', 'h:1', '--bogus'], '--bogus'],
  ])('bad flags %j exit non-zero naming %s', async (args, flag) => {
    const res = await runThales(['agent', ...args]);
    expect(res.code).not.toBe(0);
    expect(res.code).not.toBeNull();
    expect(res.stderr).toContain(flag);
  });
});
