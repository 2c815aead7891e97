import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { makeLogger } from '../observability/index.js';
import { readJsonOrUndefined, writeJsonAtomic } from '../runtime/index.js';
import { applyCgroupLimits } from './cgroup-limits.js';
import { attachRotatingLogs, logRotationFromEnv } from './log-rotator.js';
import { readProcStat } from './proc-stat.js';
import type { ExecutorJson, ExitJson, TaskJson } from './sandbox-layout.js';
import { finalStateOf } from './task-state.js';

/** Usage of `thales executor`. */
export const EXECUTOR_USAGE = `executor    run one task in its sandbox (started by the agent; flags: --sandbox DIR)`;

/** The task's environment: the deploy's env, then TASK_ID, PORT, PORT0..n and THALES_*. */
export function taskEnvironment(task: TaskJson, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...task.env };
  env.TASK_ID = task.taskId;
  env.THALES_REQUEST_ID = task.requestId;
  env.THALES_DEPLOY_ID = task.deployId;
  env.THALES_INSTANCE_NO = String(task.instanceNo);
  task.ports.forEach((port, i) => (env[`PORT${i}`] = String(port)));
  if (task.ports[0] !== undefined) env.PORT = String(task.ports[0]);
  return env;
}

/** Singularity's command semantics: no arguments → `/bin/sh -c command`; else exec it. */
export function taskArgv(task: Pick<TaskJson, 'command' | 'arguments'>): [string, string[]] {
  return task.arguments.length === 0
    ? ['/bin/sh', ['-c', task.command]]
    : [task.command, task.arguments];
}

/**
 * `thales executor --sandbox D`: runs the task described by D/task.json in its own process
 * group with stdout/stderr in D, records executor.json and, when the task ends, exit.json.
 * SIGTERM is forwarded to the task's process group.
 */
export async function runExecutor(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { sandbox: { type: 'string' } },
  });
  if (!values.sandbox) throw new Error('executor: --sandbox is required');
  const sandbox = path.resolve(values.sandbox);
  const task = readJsonOrUndefined<TaskJson>(path.join(sandbox, 'task.json'));
  if (!task) throw new Error(`executor: --sandbox ${sandbox} has no readable task.json`);
  const logger = makeLogger({ component: 'executor', agentId: task.agentId, taskId: task.taskId });
  const startedAt = Date.now();
  const self: ExecutorJson = {
    executorPid: process.pid,
    executorStartTime: readProcStat(process.pid)?.startTime ?? 0,
    taskPid: null,
    pgid: null,
    taskStartTime: null,
    startedAt,
  };
  writeJsonAtomic(path.join(sandbox, 'executor.json'), self);
  const code = await superviseTask(sandbox, task, self, logger);
  process.exit(code);
}

function superviseTask(
  sandbox: string,
  task: TaskJson,
  self: ExecutorJson,
  logger: Logger,
): Promise<number> {
  if (existsSync(path.join(sandbox, 'kill.json'))) {
    // Killed before it started: record that and never start it.
    const record: ExitJson = {
      exitCode: null,
      signal: null,
      finishedAt: Date.now(),
      state: 'TASK_KILLED',
    };
    writeJsonAtomic(path.join(sandbox, 'exit.json'), { ...record, message: 'killed before start' });
    return Promise.resolve(0);
  }
  const [cmd, args] = taskArgv(task);
  const child = spawn(cmd, args, {
    cwd: sandbox,
    env: taskEnvironment(task, process.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so kills reach everything the task started
  });
  // Output goes through size-rotated, gzipped files (docs/executor-cleanup.md).
  const logs = attachRotatingLogs(child, sandbox, logRotationFromEnv(process.env));
  let killRequested = false;
  process.on('SIGTERM', () => {
    killRequested = true;
    if (child.pid) signalQuietly(-child.pid, 'SIGTERM');
  });
  process.on('SIGINT', () => undefined);
  return new Promise((resolve) => {
    let finished = false;
    const finish = (exit: Omit<ExitJson, 'finishedAt' | 'state'>): void => {
      if (finished) return;
      finished = true;
      // Whatever the task left in its group (background children) ends with it; they would
      // otherwise also hold the output pipes open and delay exit.json.
      if (child.pid) signalQuietly(-child.pid, 'SIGKILL');
      void logs.drained().then(() => {
        const killed = killRequested || existsSync(path.join(sandbox, 'kill.json'));
        const state = finalStateOf({ ...exit, killRequested: killed });
        const record: ExitJson = { ...exit, finishedAt: Date.now(), state };
        writeJsonAtomic(path.join(sandbox, 'exit.json'), record);
        logger.info(record, 'task ended');
        resolve(0);
      });
    };
    child.once('spawn', () => onSpawned(sandbox, task, self, child, logger));
    child.once('error', (e) =>
      finish({ exitCode: null, signal: null, message: `cannot start the task: ${e.message}` }),
    );
    child.once('exit', (exitCode, signal) => finish({ exitCode, signal }));
  });
}

function onSpawned(
  sandbox: string,
  task: TaskJson,
  self: ExecutorJson,
  child: ChildProcess,
  logger: Logger,
): void {
  const pid = child.pid ?? 0;
  const started: ExecutorJson = {
    ...self,
    taskPid: pid,
    pgid: pid,
    taskStartTime: readProcStat(pid)?.startTime ?? null,
  };
  writeJsonAtomic(path.join(sandbox, 'executor.json'), started);
  applyCgroupLimits(task, pid, logger);
  logger.info({ taskPid: pid }, 'task started');
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
