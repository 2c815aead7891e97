import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive, isProcessGroupAlive, readSandbox } from '../../src/agent/index.js';
import { waitFor } from '../../src/dev/wait-for.js';
import { FakeLeaderForAgentTests } from '../harness/agent-fake-leader.js';
import {
  executorsOf,
  makeAgentWorkDir,
  processesWithTaskId,
  startAgentProcess,
  testTask,
  waitForAgentHttp,
} from '../harness/agent-process.js';

let leader: FakeLeaderForAgentTests | undefined;
afterEach(() => leader?.stop());

// One process (no shell) that runs until killed: the count of TASK_ID processes stays 1.
const LONG_TASK = 'setInterval(() => {}, 1000)';
// Runs until the test drops a file in its sandbox, then fails with exit code 3.
const UNTIL_FILE = 'while [ ! -f stop-now ]; do sleep 0.05; done; exit 3';

describe('agent restarts (real processes; test-double leader)', () => {
  it('unacked status updates survive SIGKILL of the agent and are re-sent with the same ids', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 2, autoAck: false }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    leader.launch(testTask('once-1', 'echo once'));
    await leader.waitForStatus('once-1', 'TASK_FINISHED');
    const firstIds = leader.statuses.map((s) => s.updateId);
    expect(leader.statesOf('once-1')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    expect(readdirSync(agent.layout.outboxDir)).toHaveLength(3);

    agent.proc.signal('SIGKILL');
    await agent.proc.waitExit();
    const seen = leader.statuses.length;
    agent.proc.start();
    await waitForAgentHttp(agent);
    const reg = await leader.waitForRegister(2);
    expect(reg.tasks).toEqual([{ taskId: 'once-1', state: 'TASK_FINISHED' }]);
    expect(reg.highestTerm).toBe(2);
    await waitFor('re-sent updates', () => leader!.statuses.length >= seen + 3);
    expect(leader.statuses.slice(seen).map((s) => s.updateId)).toEqual(firstIds);

    leader.ack(firstIds);
    await waitFor('outbox empty', () => readdirSync(agent.layout.outboxDir).length === 0);
  });

  it('re-attaches to a running task after SIGKILL (same pid, no second process) and reports one that ended meanwhile', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    leader.launch(testTask('long-1', process.execPath, ['-e', LONG_TASK]));
    leader.launch(testTask('ends-1', UNTIL_FILE));
    await leader.waitForStatus('long-1', 'TASK_RUNNING');
    await leader.waitForStatus('ends-1', 'TASK_RUNNING');
    const long = readSandbox(agent.layout, 'long-1').executor!;
    const ends = readSandbox(agent.layout, 'ends-1').executor!;
    expect(processesWithTaskId('long-1')).toEqual([long.taskPid]);
    expect(executorsOf('long-1')).toEqual([long.executorPid]);

    agent.proc.signal('SIGKILL');
    await agent.proc.waitExit();
    // While the agent is down: long-1 keeps running, ends-1 fails.
    writeFileSync(path.join(agent.layout.sandbox('ends-1'), 'stop-now'), '');
    await waitFor('ends-1 exit.json', () => readSandbox(agent.layout, 'ends-1').exit);
    await waitFor('ends-1 executor gone', () => !isProcessAlive(ends.executorPid));
    expect(isProcessAlive(long.taskPid!, long.taskStartTime!)).toBe(true);

    const before = leader.statuses.length;
    agent.proc.start();
    await waitForAgentHttp(agent);
    const reg = await leader.waitForRegister(2);
    expect(reg.tasks).toEqual(
      expect.arrayContaining([
        { taskId: 'long-1', state: 'TASK_RUNNING' },
        { taskId: 'ends-1', state: 'TASK_FAILED' },
      ]),
    );
    const failed = await leader.waitForStatus('ends-1', 'TASK_FAILED');
    expect(failed).toMatchObject({ hasExitCode: true, exitCode: 3 });
    // long-1 was not launched again nor re-reported: same process, one of it.
    expect(leader.statuses.slice(before).filter((s) => s.taskId === 'long-1')).toEqual([]);
    expect(processesWithTaskId('long-1')).toEqual([long.taskPid]);
    expect(executorsOf('long-1')).toEqual([long.executorPid]);

    // The re-attached agent still controls it.
    leader.kill('long-1', 5_000);
    await leader.waitForStatus('long-1', 'TASK_KILLED');
    await waitFor('long-1 group gone', () => !isProcessGroupAlive(long.pgid!));
    expect(existsSync(agent.layout.file('long-1', 'exit.json'))).toBe(true);
  });

  it('an executor that vanished without exit.json is reported TASK_LOST and its task killed', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    leader.launch(testTask('orphan-1', process.execPath, ['-e', LONG_TASK]));
    await leader.waitForStatus('orphan-1', 'TASK_RUNNING');
    const e = readSandbox(agent.layout, 'orphan-1').executor!;
    process.kill(e.executorPid, 'SIGKILL');
    const lost = await leader.waitForStatus('orphan-1', 'TASK_LOST');
    expect(lost.message).toMatch(/executor vanished/);
    await waitFor('orphaned task killed', () => !isProcessGroupAlive(e.pgid!));
  });
});
