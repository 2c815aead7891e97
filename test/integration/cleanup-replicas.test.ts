/**
 * `thales executor-cleanup --once` against real `thales scheduler` replicas on a real
 * ZooKeeper: the active task list comes from `GET /api/tasks/active/agent/{agentId}`.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, readSandbox } from '../../src/agent/index.js';
import { findFreePort } from '../../src/dev/index.js';
import { createActiveTaskOp, statePaths, type Task } from '../../src/state/index.js';
import { fetchJson, startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { processesWithTaskId } from '../harness/agent-process.js';
import {
  filesOf,
  launchTask,
  makeCleanupWorkDir,
  runCleanupCli,
  waitForExit,
} from '../harness/cleanup-sandboxes.js';

const zk = useZooKeeper();
const AGENT = 'agent-r1';

function activeTask(taskId: string): Task {
  const now = Date.now();
  return {
    taskId,
    requestId: 'web',
    deployId: 'd1',
    instanceNo: 1,
    agentId: AGENT,
    host: '127.0.0.1',
    rack: 'DEFAULT',
    startedAt: now,
    ports: [],
    resources: { cpus: 0.1, memoryMb: 32, diskMb: 10, numPorts: 0 },
    term: 1,
    state: 'TASK_RUNNING',
    updates: [{ state: 'TASK_RUNNING', at: now }],
  };
}

describe('executor-cleanup against real replicas', () => {
  it('keeps the task the replicas report active, cleans the others; safe mode once they are all down', async () => {
    const cluster = await startCluster(zk(), { replicas: 2 });
    const { workDir, layout } = makeCleanupWorkDir(AGENT);
    const coord = await cluster.coordinator();
    const active = 'web-d1-1-1-agent-r1';
    await coord.mkdirp(statePaths.tasksActiveDir('web'));
    await coord.multi([createActiveTaskOp(activeTask(active))]);
    await launchTask(workDir, AGENT, active, 'exec sleep 600');
    await launchTask(workDir, AGENT, 'web-d1-2-2-agent-r1', 'echo done');
    await launchTask(workDir, AGENT, 'web-d1-3-3-agent-r1', 'exec sleep 600');
    await waitForExit(layout, 'web-d1-2-2-agent-r1');
    // Every replica serves reads from its watch-fed cache: wait until both see the task.
    for (const r of cluster.replicas) {
      await waitFor(`${r.id} reports ${active}`, async () => {
        const tasks = await fetchJson<{ id: string }[]>(`${r.url}/api/tasks/active/agent/${AGENT}`);
        return tasks?.some((t) => t.id === active) ? true : undefined;
      });
    }
    const dead = `http://127.0.0.1:${await findFreePort()}`;
    const urls = [dead, ...cluster.replicas.map((r) => r.url)];
    const before = filesOf(layout, active);
    const r = await runCleanupCli(workDir, urls, ['--retention', '0s', '--failed-retention', '0s']);
    expect(r.code).toBe(0);
    expect(r.summary.safeMode).toBeNull();
    expect(r.summary.replica).toBe(cluster.replicas[0]?.url);
    expect(r.summary.activeTasks).toBe(1);
    expect(r.summary.deleted.sort()).toEqual(['web-d1-2-2-agent-r1', 'web-d1-3-3-agent-r1']);
    expect(r.summary.killed.map((k) => k.taskId)).toContain('web-d1-3-3-agent-r1');
    expect(processesWithTaskId('web-d1-3-3-agent-r1')).toEqual([]);
    expect(filesOf(layout, active)).toEqual(before);
    const e = readSandbox(layout, active).executor;
    expect(e && isProcessAlive(e.executorPid, e.executorStartTime)).toBe(true);

    // All replicas down: nothing deleted, even a sandbox past its retention.
    await launchTask(workDir, AGENT, 'web-d1-4-4-agent-r1', 'echo done');
    await waitForExit(layout, 'web-d1-4-4-agent-r1');
    await cluster.stop();
    const down = await runCleanupCli(workDir, urls, ['--retention', '0s']);
    expect(down.summary.safeMode).toMatch(/no scheduler replica answered/);
    expect(existsSync(layout.sandbox('web-d1-4-4-agent-r1'))).toBe(true);
    expect(existsSync(layout.sandbox(active))).toBe(true);
    expect(processesWithTaskId(active).length).toBeGreaterThan(0);
  });
});
