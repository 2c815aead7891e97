/**
 * `thales executor-cleanup --once` (real CLI) over real executors and tasks, asking a TEST
 * DOUBLE of the replicas' HTTP API (test/harness/cleanup-scheduler-double.ts) so that the
 * cluster's answer is a controlled input. The same against real replicas:
 * cleanup-replicas.test.ts.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, readSandbox } from '../../src/agent/index.js';
import { findFreePort } from '../../src/dev/index.js';
import { processesWithTaskId } from '../harness/agent-process.js';
import {
  filesOf,
  launchTask,
  makeCleanupWorkDir,
  runCleanupCli,
  waitForExit,
} from '../harness/cleanup-sandboxes.js';
import { startSchedulerDouble } from '../harness/cleanup-scheduler-double.js';

const AGENT = 'agent-c1';
const LONG = 'echo started; exec sleep 600';

describe('executor-cleanup against a scheduler double (real processes)', () => {
  it('compresses finished sandboxes, deletes them after retention, and never touches active ones over many runs', async () => {
    const { workDir, layout } = makeCleanupWorkDir(AGENT);
    const double = await startSchedulerDouble(AGENT);
    const active = new Set<string>();
    const publish = (): void => {
      double.answer = { kind: 'tasks', taskIds: [...active] };
    };
    // Two long-running active tasks and two finished ones.
    for (const id of ['a1', 'a2']) {
      active.add(id);
      publish();
      await launchTask(workDir, AGENT, id, LONG);
    }
    for (const id of ['f1', 'f2']) {
      await launchTask(workDir, AGENT, id, `echo done-${id}`);
      await waitForExit(layout, id);
    }
    const activeFiles = (): Record<string, string[]> =>
      Object.fromEntries([...active].map((id) => [id, filesOf(layout, id)]));

    // Within retention: finished logs compressed, nothing deleted, active untouched.
    const before = activeFiles();
    const r1 = await runCleanupCli(workDir, [double.url], ['--retention', '1h']);
    expect(r1.code).toBe(0);
    expect(r1.summary.safeMode).toBeNull();
    expect(r1.summary.sandboxesDeleted).toBe(0);
    expect(r1.summary.bytesCompressed).toBeGreaterThan(0);
    expect(filesOf(layout, 'f1')).toEqual(
      expect.arrayContaining(['stdout.gz', 'stderr.gz', 'task.json', 'exit.json']),
    );
    expect(filesOf(layout, 'f1')).not.toContain('stdout');
    expect(activeFiles()).toEqual(before);

    // Many runs with retention 0 while tasks start and stop: active sandboxes survive each.
    let n = 0;
    for (let round = 0; round < 4; round++) {
      const id = `s${round}`;
      active.add(id);
      publish(); // the leader records a task active before it launches it
      await launchTask(workDir, AGENT, id, LONG);
      if (round % 2 === 1) {
        // A task that stops: killed by the agent, then no longer active.
        const stopping = `s${round - 1}`;
        const pgid = readSandbox(layout, stopping).executor?.pgid;
        if (pgid) process.kill(-pgid, 'SIGTERM');
        await waitForExit(layout, stopping);
        active.delete(stopping);
        publish();
      }
      const snapshot = activeFiles();
      const r = await runCleanupCli(
        workDir,
        [double.url],
        ['--retention', '0s', '--failed-retention', '0s'],
      );
      n += 1;
      expect(r.code).toBe(0);
      expect(r.summary.safeMode).toBeNull();
      for (const id of active) {
        expect(r.summary.deleted).not.toContain(id);
        expect(existsSync(layout.sandbox(id))).toBe(true);
        const e = readSandbox(layout, id).executor;
        expect(e && isProcessAlive(e.executorPid, e.executorStartTime)).toBe(true);
      }
      expect(r.summary.killed.filter((k) => active.has(k.taskId))).toEqual([]);
      expect(activeFiles()).toEqual(snapshot);
    }
    expect(n).toBe(4);
    for (const id of ['f1', 'f2', 's0', 's2']) expect(existsSync(layout.sandbox(id))).toBe(false);
  });

  it('finds and kills a stray process that escaped the group with setsid', async () => {
    const { workDir, layout } = makeCleanupWorkDir(AGENT);
    const double = await startSchedulerDouble(AGENT);
    double.answer = { kind: 'tasks', taskIds: ['keep'] };
    await launchTask(workDir, AGENT, 'keep', LONG);
    await launchTask(workDir, AGENT, 'leaky', 'setsid sleep 600 > /dev/null 2>&1 & exec sleep 600');
    const strayPid = await waitForStray('leaky', readSandbox(layout, 'leaky').executor?.pgid ?? 0);
    // The task is killed (its group and executor), but the setsid child lives on.
    const e = readSandbox(layout, 'leaky').executor;
    process.kill(-(e?.pgid ?? 0), 'SIGKILL');
    process.kill(e?.executorPid ?? 0, 'SIGKILL');
    await waitUntil(() => !isProcessAlive(e?.pgid ?? 0));
    expect(processesWithTaskId('leaky')).toEqual([strayPid]);

    const r = await runCleanupCli(workDir, [double.url], ['--retention', '1h']);
    expect(r.summary.killed).toEqual([{ taskId: 'leaky', pid: strayPid, via: 'environ' }]);
    expect(processesWithTaskId('leaky')).toEqual([]);
    expect(processesWithTaskId('keep').length).toBeGreaterThan(0);
  });

  it('safe mode: all replicas down, an empty answer while tasks run, a malformed answer → nothing deleted or killed', async () => {
    const { workDir, layout } = makeCleanupWorkDir(AGENT);
    const double = await startSchedulerDouble(AGENT);
    await launchTask(workDir, AGENT, 'running', LONG);
    await launchTask(workDir, AGENT, 'ended', 'echo bye');
    await waitForExit(layout, 'ended');
    const del = ['--retention', '0s', '--failed-retention', '0s'];
    const check = async (schedulers: string[], expected: RegExp): Promise<void> => {
      const files = { running: filesOf(layout, 'running'), ended: filesOf(layout, 'ended') };
      const r = await runCleanupCli(workDir, schedulers, del);
      expect(r.code).toBe(0);
      expect(r.summary.safeMode).toMatch(expected);
      expect(
        r.summary.processesKilled + r.summary.sandboxesDeleted + r.summary.filesCompressed,
      ).toBe(0);
      expect({ running: filesOf(layout, 'running'), ended: filesOf(layout, 'ended') }).toEqual(
        files,
      );
      expect(processesWithTaskId('running').length).toBeGreaterThan(0);
      expect(r.stderr).toContain('safe mode');
    };
    const dead = [
      `http://127.0.0.1:${await findFreePort()}`,
      `http://127.0.0.1:${await findFreePort()}`,
    ];
    await check(dead, /no scheduler replica answered/);
    double.answer = { kind: 'tasks', taskIds: [] };
    await check([double.url], /reports no active task .* not decommissioned/);
    double.answer = { kind: 'raw', status: 200, body: '{"tasks":"nope"}' };
    await check([double.url], /malformed/);
    double.answer = { kind: 'raw', status: 200, body: '[{"taskId":{}}]' };
    await check([double.url], /malformed/);

    // Decommissioning agent: the empty answer is believed, the task is killed.
    double.answer = { kind: 'tasks', taskIds: [] };
    double.agentState = 'DECOMMISSIONING';
    const r = await runCleanupCli(workDir, [...dead, double.url], del);
    expect(r.summary.safeMode).toBeNull();
    expect(r.summary.killed.map((k) => k.taskId)).toContain('running');
    expect(processesWithTaskId('running')).toEqual([]);
  });

  it('corrupt or missing task.json is reported and skipped; other sandboxes are still cleaned; dry run changes nothing', async () => {
    const { workDir, layout } = makeCleanupWorkDir(AGENT);
    const double = await startSchedulerDouble(AGENT);
    await launchTask(workDir, AGENT, 'fine', 'echo ok');
    await waitForExit(layout, 'fine');
    mkdirSync(layout.sandbox('corrupt'));
    writeFileSync(path.join(layout.sandbox('corrupt'), 'task.json'), '{"taskId": "corr');
    writeFileSync(path.join(layout.sandbox('corrupt'), 'stdout'), 'x');
    mkdirSync(layout.sandbox('missing'));
    const del = ['--retention', '0s', '--failed-retention', '0s'];

    const dry = await runCleanupCli(workDir, [double.url], [...del, '--dry-run']);
    expect(dry.stdout).toContain('would delete sandbox of fine');
    expect(filesOf(layout, 'fine')).toContain('stdout');

    const r = await runCleanupCli(workDir, [double.url], del);
    expect(r.code).toBe(0);
    expect(r.summary.skipped).toEqual(
      expect.arrayContaining([
        { taskId: 'corrupt', reason: 'task.json is not valid JSON' },
        { taskId: 'missing', reason: 'task.json is missing' },
      ]),
    );
    expect(r.summary.deleted).toEqual(['fine']);
    expect(readFileSync(path.join(layout.sandbox('corrupt'), 'stdout'), 'utf8')).toBe('x');
    expect(existsSync(layout.sandbox('missing'))).toBe(true);
    // The summary and the textfile-collector file are next to each other.
    const dir = path.join(workDir, 'executor-cleanup');
    expect(JSON.parse(readFileSync(path.join(dir, 'last-run.json'), 'utf8')).deleted).toEqual([
      'fine',
    ]);
    const prom = readFileSync(path.join(dir, 'executor-cleanup.prom'), 'utf8');
    expect(prom).toContain('thales_executor_cleanup_sandboxes_deleted_total 1');
    expect(prom).toContain('thales_executor_cleanup_sandboxes_skipped 2');
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pid of the task's process outside its group (the setsid child). */
async function waitForStray(taskId: string, pgid: number): Promise<number> {
  let found = 0;
  await waitUntil(() => {
    for (const pid of processesWithTaskId(taskId)) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) found = pid;
    }
    return found > 0;
  });
  return found;
}
