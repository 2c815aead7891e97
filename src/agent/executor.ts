import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { exitOnProcessFault, makeLogger } from '../observability/index.js';
import { readJsonOrUndefined, writeJsonAtomic } from '../runtime/index.js';
import {
  cgroupRootFromEnv,
  prepareTaskCgroup,
  removeTaskCgroup,
  spawnInCgroup,
} from './cgroup-limits.js';
import { attachRotatingLogs, logRotationFromEnv } from './log-rotator.js';
import { readProcStat } from './proc-stat.js';
import type { ExecutorJson, ExitJson, TaskJson } from './sandbox-layout.js';
import { finalStateOf } from './task-state.js';

/** Usage of `thales executor`. */
export const EXECUTOR_USAGE = `executor    run one task in its sandbox (started by the agent; flags: --sandbox DIR)`;

/**
 * The task's environment: the deploy's env, then TASK_ID, TASK_HOST (the agent's host, where
 * the task should listen: Singularity's name), PORT, PORT0..n and THALES_*.
 */
export function taskEnvironment(task: TaskJson, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...task.env };
  env.TASK_ID = task.taskId;
  if (task.host !== undefined) env.TASK_HOST = task.host;
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
  exitOnProcessFault(logger);
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
  const { child, cgroup } = startTask(sandbox, task, logger);
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
      const recorded = logs.drained().then(async () => {
        const killed = killRequested || existsSync(path.join(sandbox, 'kill.json'));
        const state = finalStateOf({ ...exit, killRequested: killed });
        const record: ExitJson = { ...exit, finishedAt: Date.now(), state };
        writeJsonAtomic(path.join(sandbox, 'exit.json'), record);
        logger.info(record, 'task ended');
        const left = cgroup ? await removeTaskCgroup(cgroup) : undefined;
        if (left) logger.warn({ cgroup, err: left }, 'cgroup of the ended task not removed');
        resolve(0);
      });
      // exit.json not written (disk full, sandbox gone): the executor exits non-zero and the
      // agent, finding no exit record, handles the task as it does an executor that died.
      recorded.catch((err: unknown) => {
        logger.error({ err }, 'task end not recorded');
        resolve(1);
      });
    };
    child.once('spawn', () => onSpawned(sandbox, self, child, logger));
    child.once('error', (e) =>
      finish({ exitCode: null, signal: null, message: `cannot start the task: ${e.message}` }),
    );
    child.once('exit', (exitCode, signal) => finish({ exitCode, signal }));
  });
}

/**
 * Starts the task in its own process group and, where the host allows, in its own cgroup,
 * whose limits are written before the task is forked into it. Returns the cgroup it joined.
 */
function startTask(
  sandbox: string,
  task: TaskJson,
  logger: Logger,
): { child: ChildProcess; cgroup: string | undefined } {
  const [cmd, args] = taskArgv(task);
  const prepared = prepareTaskCgroup(task.taskId, task.resources, cgroupRootFromEnv(process.env));
  const { child, notice } = spawnInCgroup(prepared.dir, () =>
    spawn(cmd, args, {
      cwd: sandbox,
      env: taskEnvironment(task, process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so kills reach everything the task started
    }),
  );
  const cgroup = notice === undefined ? prepared.dir : undefined;
  noteLimits(sandbox, logger, cgroup, prepared.applied, notice ?? prepared.notice);
  return { child, cgroup };
}

function onSpawned(sandbox: string, self: ExecutorJson, child: ChildProcess, logger: Logger): void {
  const pid = child.pid ?? 0;
  const started: ExecutorJson = {
    ...self,
    taskPid: pid,
    pgid: pid,
    taskStartTime: readProcStat(pid)?.startTime ?? null,
  };
  writeJsonAtomic(path.join(sandbox, 'executor.json'), started);
  logger.info({ taskPid: pid }, 'task started');
}

/**
 * Says where the task's limits stand: in the executor's log, and — when some are missing —
 * as a first line of the task's stderr, where whoever reads the task's output sees it.
 */
function noteLimits(
  sandbox: string,
  logger: Logger,
  cgroup: string | undefined,
  applied: object,
  notice: string | undefined,
): void {
  if (cgroup) logger.info({ cgroup, limits: applied }, 'task started in its cgroup');
  if (!notice) return;
  logger.warn(notice);
  try {
    appendFileSync(path.join(sandbox, 'stderr'), `[thales executor] ${notice}\n`);
  } catch (err) {
    logger.warn({ err: String(err) }, 'cannot write the limits notice into stderr');
  }
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
