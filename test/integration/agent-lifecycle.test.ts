import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive, isProcessGroupAlive, readSandbox } from '../../src/agent/index.js';
import { findFreePorts } from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { FakeLeaderForAgentTests } from '../harness/agent-fake-leader.js';
import { makeAgentWorkDir, startAgentProcess, testTask } from '../harness/agent-process.js';

// A one-process task (no shell in between): an HTTP server on $PORT answering with its env.
const HTTP_TASK = `require('http').createServer((q, s) => s.end(JSON.stringify({
  taskId: process.env.TASK_ID, port: process.env.PORT, port1: process.env.PORT1,
  request: process.env.THALES_REQUEST_ID, deploy: process.env.THALES_DEPLOY_ID,
  instance: process.env.THALES_INSTANCE_NO, greeting: process.env.GREETING })))
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));`;

let leader: FakeLeaderForAgentTests | undefined;
afterEach(() => leader?.stop());

describe('agent task lifecycle (real agent, executor and task processes; test-double leader)', () => {
  it('launches with the right env, serves the sandbox, reports STARTING→RUNNING, kills the group', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    const reg = await leader.waitForRegister(1);
    expect(reg.httpAddress).toBe(agent.httpUrl.replace('http://', ''));
    expect(reg.resources).toMatchObject({ cpus: 2, memoryMb: 1024 });
    expect(reg.portRanges).toEqual([{ begin: 31000, end: 31999 }]);

    const [port, port1] = await findFreePorts(2);
    const spec = testTask('web-1', process.execPath, ['-e', HTTP_TASK], {
      ports: [port!, port1!],
      env: { GREETING: 'hello' },
    });
    leader.launch(spec);
    await leader.waitForStatus('web-1', 'TASK_RUNNING');
    expect(leader.statesOf('web-1')).toEqual(['TASK_STARTING', 'TASK_RUNNING']);

    const env = await waitFor('task answers on $PORT', () =>
      fetchJson<Record<string, string>>(`http://127.0.0.1:${port}/`),
    );
    expect(env).toEqual({
      taskId: 'web-1',
      port: String(port),
      port1: String(port1),
      request: 'req-1',
      deploy: 'dep-1',
      instance: '1',
      greeting: 'hello',
    });
    const chunk = await waitFor('stdout via the sandbox endpoint', async () => {
      const c = await fetchJson<{ data: string; offset: number; nextOffset: number }>(
        `${agent.httpUrl}/sandbox/web-1/read?path=stdout&offset=0&length=65536`,
      );
      return c?.data.includes('listening') ? c : undefined;
    });
    expect(chunk).toEqual({
      data: `listening on ${port}\n`,
      offset: 0,
      nextOffset: chunk.data.length,
    });
    const files = await fetchJson<{ files: { name: string }[] }>(
      `${agent.httpUrl}/sandbox/web-1/files`,
    );
    expect(files?.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(['task.json', 'executor.json', 'stdout', 'stderr']),
    );
    const tasks = await fetchJson<{ tasks: unknown[] }>(`${agent.httpUrl}/tasks`);
    expect(tasks?.tasks).toEqual([{ taskId: 'web-1', state: 'TASK_RUNNING' }]);

    const { executor } = readSandbox(agent.layout, 'web-1');
    expect(executor?.pgid).toBe(executor?.taskPid);
    leader.kill('web-1', 5_000);
    await leader.waitForStatus('web-1', 'TASK_KILLED');
    await waitFor('task group gone', () => !isProcessGroupAlive(executor!.pgid!));
    expect(isProcessAlive(executor!.taskPid!)).toBe(false);
    await waitFor('executor gone', () => !isProcessAlive(executor!.executorPid));
    expect(readSandbox(agent.layout, 'web-1').exit).toMatchObject({
      state: 'TASK_KILLED',
      signal: 'SIGTERM',
    });
    await waitFor('outbox empty (all acked)', async () => {
      const m = await fetch(`${agent.httpUrl}/metrics`).then((r) => r.text());
      return /thales_agent_status_updates_pending\{[^}]*\} 0/.test(m);
    });
  });

  it('a task that ignores SIGTERM is SIGKILLed after the grace period, then TASK_KILLED', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    leader.launch(testTask('stubborn', "trap '' TERM; echo ready; while true; do sleep 0.1; done"));
    await leader.waitForStatus('stubborn', 'TASK_RUNNING');
    // RUNNING means the process started; wait for the trap to be in place before killing.
    await waitFor('trap installed', async () => {
      const c = await fetchJson<{ data: string }>(
        `${agent.httpUrl}/sandbox/stubborn/read?path=stdout`,
      );
      return c?.data.includes('ready');
    });
    const { executor } = readSandbox(agent.layout, 'stubborn');
    leader.kill('stubborn', 300);
    const killed = await leader.waitForStatus('stubborn', 'TASK_KILLED');
    expect(killed.hasExitCode).toBe(false);
    expect(readSandbox(agent.layout, 'stubborn').exit?.signal).toBe('SIGKILL');
    await waitFor('task group gone', () => !isProcessGroupAlive(executor!.pgid!));
  });

  it('exit 0 → TASK_FINISHED, exit 3 → TASK_FAILED with the exit code; kill of an unknown task → TASK_LOST', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    leader.launch(testTask('ok-1', 'echo done'));
    leader.launch(testTask('bad-1', 'exit 3'));
    const ok = await leader.waitForStatus('ok-1', 'TASK_FINISHED');
    const bad = await leader.waitForStatus('bad-1', 'TASK_FAILED');
    expect(ok).toMatchObject({ hasExitCode: true, exitCode: 0 });
    expect(bad).toMatchObject({ hasExitCode: true, exitCode: 3 });
    expect(leader.statesOf('ok-1')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);

    // A background child left in the task's process group ends with the task.
    leader.launch(testTask('bg-1', 'sleep 60 & echo $! > bg.pid; exit 0'));
    await leader.waitForStatus('bg-1', 'TASK_FINISHED');
    const bgPid = Number(readFileSync(path.join(agent.layout.sandbox('bg-1'), 'bg.pid'), 'utf8'));
    await waitFor('background child gone', () => !isProcessAlive(bgPid));

    // Idempotent: launching a finished task again starts nothing and re-reports its state.
    const before = leader.statuses.length;
    leader.launch(testTask('ok-1', 'echo done'));
    await waitFor('re-report', () => leader!.statuses.length > before);
    expect(leader.statuses.at(-1)).toMatchObject({ taskId: 'ok-1', state: 'TASK_FINISHED' });

    leader.kill('never-launched');
    await leader.waitForStatus('never-launched', 'TASK_LOST');
    // A task id that would escape sandboxes/ is refused without touching the disk.
    leader.launch(testTask('../escape', 'touch /tmp/should-not-exist'));
    const refused = await leader.waitForStatus('../escape', 'TASK_LOST');
    expect(refused.message).toMatch(/invalid task id/);
    expect(existsSync(path.join(agent.workDir, 'escape'))).toBe(false);
  });

  it('sandbox reads are confined: .. and absolute paths → 400 naming path; symlinks out → 400', async () => {
    leader = await new FakeLeaderForAgentTests({ term: 1 }).start();
    const agent = await startAgentProcess(makeAgentWorkDir(), leader.address);
    await leader.waitForRegister(1);
    leader.launch(testTask('files-1', 'ln -s /etc/passwd escape; echo x'));
    await leader.waitForStatus('files-1', 'TASK_FINISHED');
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'escape']) {
      const res = await fetch(
        `${agent.httpUrl}/sandbox/files-1/read?path=${encodeURIComponent(bad)}`,
      );
      expect(res.status, bad).toBe(400);
      const body = (await res.json()) as { error: { field: string; message: string } };
      expect(body.error.field).toBe('path');
      expect(body.error.message).toMatch(/^path /);
    }
    const missing = await fetch(`${agent.httpUrl}/sandbox/nope/read?path=stdout`);
    expect(missing.status).toBe(404);
    const chunk = await fetchJson<{ data: string; nextOffset: number }>(
      `${agent.httpUrl}/sandbox/files-1/read?path=stdout&offset=1&length=10`,
    );
    expect(chunk).toEqual({ data: '\n', offset: 1, nextOffset: 2 });
  });
});
