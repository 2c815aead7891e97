import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { WorkDirLayout } from '../agent/index.js';
import { type ExecutorJson, type ExitJson, isProcessAlive, parseProcStat } from '../agent/index.js';
import type { SandboxSnapshot, TaskProcess } from './cleanup-plan.js';

/** One live process as /proc showed it during the scan. */
interface ProcEntry {
  pid: number;
  pgid: number;
  startTime: number;
  taskId: string | undefined;
}

/** Every live process, indexed by process group and by the TASK_ID in its environment. */
export interface ProcIndex {
  byPid: Map<number, ProcEntry>;
  byPgid: Map<number, ProcEntry[]>;
  byTaskId: Map<string, ProcEntry[]>;
}

/**
 * One pass over /proc: stat and environ of each live process. Processes we may not read
 * (another user's, when not root) are indexed without a task id. One pass serves every
 * sandbox, so the cost does not grow with sandboxes × processes.
 */
export function scanProcesses(procRoot = '/proc'): ProcIndex {
  const index: ProcIndex = { byPid: new Map(), byPgid: new Map(), byTaskId: new Map() };
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let stat;
    try {
      stat = parseProcStat(readFileSync(`${procRoot}/${name}/stat`, 'utf8'));
    } catch {
      continue; // exited meanwhile
    }
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    const entry: ProcEntry = { pid, pgid: stat.pgid, startTime: stat.startTime, taskId: undefined };
    entry.taskId = taskIdInEnviron(`${procRoot}/${name}/environ`);
    index.byPid.set(pid, entry);
    push(index.byPgid, entry.pgid, entry);
    if (entry.taskId !== undefined) push(index.byTaskId, entry.taskId, entry);
  }
  return index;
}

function taskIdInEnviron(file: string): string | undefined {
  try {
    const env = readFileSync(file, 'latin1');
    let at = 0;
    if (!env.startsWith('TASK_ID=')) {
      const i = env.indexOf('\0TASK_ID=');
      if (i < 0) return undefined;
      at = i + 1;
    }
    const start = at + 'TASK_ID='.length;
    const end = env.indexOf('\0', start);
    return env.slice(start, end < 0 ? undefined : end);
  } catch {
    return undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Reads every sandbox of the work dir into snapshots for the plan. */
export function scanSandboxes(layout: WorkDirLayout, procs: ProcIndex): SandboxSnapshot[] {
  return layout.listSandboxes().map((taskId) => scanSandbox(layout, taskId, procs));
}

/** A log the cleaner compresses: stdout, stderr, their rotated files, the executor's log. */
export function isCompressibleLog(name: string): boolean {
  return /^(stdout|stderr)(\.\d+)?$/.test(name) || name === 'executor.log';
}

/** Reads one sandbox: its JSON files, its log files, its live processes. */
export function scanSandbox(
  layout: WorkDirLayout,
  taskId: string,
  procs: ProcIndex,
): SandboxSnapshot {
  const dir = layout.sandbox(taskId);
  let lastModifiedAt = 0;
  const uncompressedLogs: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return {
      taskId,
      problem: 'not a readable directory',
      lastModifiedAt,
      processes: [],
      uncompressedLogs,
    };
  }
  for (const name of names) {
    try {
      lastModifiedAt = Math.max(lastModifiedAt, statSync(path.join(dir, name)).mtimeMs);
    } catch {
      // removed meanwhile
    }
    if (isCompressibleLog(name)) uncompressedLogs.push(name);
  }
  const snapshot: SandboxSnapshot = { taskId, lastModifiedAt, processes: [], uncompressedLogs };
  const task = readJson(path.join(dir, 'task.json'));
  if (task.error !== undefined) snapshot.problem = `task.json ${task.error}`;
  else {
    const t = task.value as { taskId?: unknown; launchedAt?: unknown };
    if (t.taskId !== taskId) snapshot.problem = 'task.json names another task';
    else if (typeof t.launchedAt === 'number') snapshot.launchedAt = t.launchedAt;
  }
  const exec = readJson(path.join(dir, 'executor.json')).value as ExecutorJson | undefined;
  const exit = readJson(path.join(dir, 'exit.json')).value as ExitJson | undefined;
  if (exit && typeof exit.finishedAt === 'number' && typeof exit.state === 'string')
    snapshot.exit = { finishedAt: exit.finishedAt, state: exit.state, exitCode: exit.exitCode };
  snapshot.processes = processesOfTask(taskId, exec, procs);
  return snapshot;
}

/**
 * The task's live processes: the executor (if its start time matches executor.json), the
 * members of the task's group (if the group leader is the very process started, or a member
 * carries the task's TASK_ID), and anything else with TASK_ID=<taskId> in its environment —
 * a child that left the group with setsid.
 */
export function processesOfTask(
  taskId: string,
  exec: ExecutorJson | undefined,
  procs: ProcIndex,
): TaskProcess[] {
  const out = new Map<number, TaskProcess>();
  if (exec && typeof exec.executorPid === 'number') {
    const e = procs.byPid.get(exec.executorPid);
    if (e && e.startTime === exec.executorStartTime)
      out.set(e.pid, { pid: e.pid, startTime: e.startTime, via: 'executor' });
  }
  const pgid = exec?.pgid;
  if (typeof pgid === 'number' && pgid > 0) {
    const leader = procs.byPid.get(pgid);
    const leaderIsOurs = leader !== undefined && leader.startTime === exec?.taskStartTime;
    for (const m of procs.byPgid.get(pgid) ?? []) {
      if (leaderIsOurs || m.taskId === taskId)
        out.set(m.pid, { pid: m.pid, startTime: m.startTime, via: 'group' });
    }
  }
  for (const m of procs.byTaskId.get(taskId) ?? []) {
    if (!out.has(m.pid)) out.set(m.pid, { pid: m.pid, startTime: m.startTime, via: 'environ' });
  }
  // Never our own process (a cleaner started from inside a task's environment, say).
  out.delete(process.pid);
  return [...out.values()].filter((p) => isProcessAlive(p.pid, p.startTime));
}

function readJson(file: string): { value?: unknown; error?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { error: 'is missing' };
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return { error: 'is not a JSON object' };
    return { value };
  } catch {
    return { error: 'is not valid JSON' };
  }
}
