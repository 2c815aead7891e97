import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { TaskSpec__Output } from '../gen/thales/v1/TaskSpec.js';
import { readJsonOrUndefined } from '../runtime/index.js';

// Task states are Singularity's, shared with the leader's model (src/state).
import type { TaskState } from '../state/index.js';
export { TASK_STATES, isTerminal, type TaskState } from '../state/index.js';

/**
 * `sandboxes/<taskId>/task.json`: the TaskSpec (camelCase) plus who launched it, where and when.
 * `host` is optional: sandboxes written before it existed lack it.
 */
export type TaskJson = TaskSpec__Output & { agentId: string; host?: string; launchedAt: number };

/** `sandboxes/<taskId>/executor.json`; `taskPid` is null until the task process started. */
export interface ExecutorJson {
  executorPid: number;
  /** /proc/<pid>/stat start time of the executor, to tell it from a process reusing its pid. */
  executorStartTime: number;
  taskPid: number | null;
  /** The task's own process group (= taskPid); signals go to the whole group. */
  pgid: number | null;
  taskStartTime: number | null;
  startedAt: number;
}

/** `sandboxes/<taskId>/exit.json`, written once by the executor when the task has ended. */
export interface ExitJson {
  exitCode: number | null;
  signal: string | null;
  finishedAt: number;
  state: TaskState;
  message?: string;
}

/** `sandboxes/<taskId>/kill.json`: written by the agent before it signals the task. */
export interface KillJson {
  requestedAt: number;
  graceMs: number;
  reason: string;
}

/** `sandboxes/<taskId>/reported.json`: the last state the agent put in its outbox. */
export interface ReportedJson {
  state: TaskState;
  updateId: string;
}

/** `sandboxes/<taskId>/health.json`: the task's health when it last changed (health checks). */
export interface HealthJson {
  status: 'STARTING' | 'HEALTHY' | 'UNHEALTHY';
  at: number;
}

/** The files of one work dir (see docs/agent.md, "Sandbox layout"). */
export class WorkDirLayout {
  constructor(readonly root: string) {}

  get agentJson(): string {
    return path.join(this.root, 'agent.json');
  }
  get outboxDir(): string {
    return path.join(this.root, 'status-outbox');
  }
  get sandboxesDir(): string {
    return path.join(this.root, 'sandboxes');
  }
  sandbox(taskId: string): string {
    return path.join(this.sandboxesDir, taskId);
  }
  file(
    taskId: string,
    name:
      'task.json' | 'executor.json' | 'exit.json' | 'kill.json' | 'reported.json' | 'health.json',
  ): string {
    return path.join(this.sandbox(taskId), name);
  }

  /** Task ids with a sandbox on disk. */
  listSandboxes(): string[] {
    if (!existsSync(this.sandboxesDir)) return [];
    return readdirSync(this.sandboxesDir).filter((n) => !n.startsWith('.'));
  }
}

/** Everything the agent knows about one sandbox, read from disk. */
export interface SandboxFiles {
  task: TaskJson | undefined;
  executor: ExecutorJson | undefined;
  exit: ExitJson | undefined;
  kill: KillJson | undefined;
  reported: ReportedJson | undefined;
}

/** Reads a sandbox's JSON files (missing or half-written files read as undefined). */
export function readSandbox(layout: WorkDirLayout, taskId: string): SandboxFiles {
  return {
    task: readJsonOrUndefined<TaskJson>(layout.file(taskId, 'task.json')),
    executor: readJsonOrUndefined<ExecutorJson>(layout.file(taskId, 'executor.json')),
    exit: readJsonOrUndefined<ExitJson>(layout.file(taskId, 'exit.json')),
    kill: readJsonOrUndefined<KillJson>(layout.file(taskId, 'kill.json')),
    reported: readJsonOrUndefined<ReportedJson>(layout.file(taskId, 'reported.json')),
  };
}

/** A task id usable as a directory name: no separators, no dot-only names. */
export function isSafeTaskId(taskId: string): boolean {
  return /^[A-Za-z0-9_.:@-]{1,200}$/.test(taskId) && !/^\.+$/.test(taskId);
}
