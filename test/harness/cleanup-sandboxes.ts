/**
 * Real sandboxes for executor-cleanup tests: an agent work dir (agent.json), tasks run by
 * real `thales executor` processes (the agent's light entry point, from dist/), and the
 * real `thales executor-cleanup --once` CLI. Every process started is killed when the test
 * ends, strays (by TASK_ID in their environment) included.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { readSandbox, WorkDirLayout } from '../../src/agent/index.js';
import { repoRoot } from '../../src/dev/index.js';
import { waitFor } from '../../src/dev/wait-for.js';
import type { CleanupSummary } from '../../src/executor-cleanup/index.js';
import {
  killSandboxProcesses,
  makeAgentWorkDir,
  processesWithTaskId,
  testTask,
} from './agent-process.js';
import { runThales } from './cli.js';

/** An agent work dir with agent.json; processes and files cleaned up after the test. */
export function makeCleanupWorkDir(agentId: string): { workDir: string; layout: WorkDirLayout } {
  const workDir = makeAgentWorkDir();
  writeFileSync(path.join(workDir, 'agent.json'), JSON.stringify({ agentId, highestTerm: 1 }));
  mkdirSync(path.join(workDir, 'sandboxes'), { recursive: true });
  const launched = new Set<string>();
  onTestFinished(() => {
    killSandboxProcesses(workDir);
    for (const taskId of launched) {
      for (const pid of processesWithTaskId(taskId)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });
  launchedTasks.set(workDir, launched);
  return { workDir, layout: new WorkDirLayout(workDir) };
}
const launchedTasks = new Map<string, Set<string>>();

/**
 * Starts a task the way the agent does: task.json, then a detached executor. Resolves once
 * the task process runs (executor.json has its pid).
 */
export async function launchTask(
  workDir: string,
  agentId: string,
  taskId: string,
  command: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  launchedTasks.get(workDir)?.add(taskId);
  const layout = new WorkDirLayout(workDir);
  const dir = layout.sandbox(taskId);
  mkdirSync(dir, { recursive: true });
  const task = { ...testTask(taskId, command), agentId, launchedAt: Date.now() };
  writeFileSync(path.join(dir, 'task.json'), JSON.stringify(task));
  const log = openSync(path.join(dir, 'executor.log'), 'a');
  const main = path.join(repoRoot(), 'dist', 'src', 'agent', 'executor-main.js');
  const child = spawn(process.execPath, [main, '--sandbox', dir], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, THALES_LOG_LEVEL: 'warn', ...env },
  });
  closeSync(log);
  child.unref();
  await waitFor(
    `task ${taskId} started`,
    () => readSandbox(layout, taskId).executor?.taskPid ?? undefined,
    {
      timeoutMs: 30_000,
    },
  );
}

/** Waits until the task wrote exit.json (it ended). */
export async function waitForExit(layout: WorkDirLayout, taskId: string): Promise<void> {
  await waitFor(`task ${taskId} ended`, () => readSandbox(layout, taskId).exit, {
    timeoutMs: 30_000,
  });
}

/** Runs `thales executor-cleanup --once` (real CLI) and parses the summary line it prints. */
export async function runCleanupCli(
  workDir: string,
  schedulers: string[],
  extra: string[] = [],
): Promise<{ code: number | null; summary: CleanupSummary; stdout: string; stderr: string }> {
  const r = await runThales(
    [
      'executor-cleanup',
      '--once',
      '--work-dir',
      workDir,
      '--scheduler',
      schedulers.join(','),
      '--launch-grace',
      '0s',
      '--kill-grace',
      '3s',
      '--request-timeout',
      '5s',
      ...extra,
    ],
    { timeoutMs: 60_000 },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let summary: CleanupSummary;
  try {
    summary = JSON.parse(last) as CleanupSummary;
  } catch {
    throw new Error(`no summary (code ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, summary, stdout: r.stdout, stderr: r.stderr };
}

/** Sorted file names of a sandbox (empty if it is gone). */
export function filesOf(layout: WorkDirLayout, taskId: string): string[] {
  try {
    return readdirSync(layout.sandbox(taskId)).sort();
  } catch {
    return [];
  }
}
