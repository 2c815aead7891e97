import {
  type ExecutorJson,
  type SandboxFiles,
  type TaskState,
  isTerminal,
} from './sandbox-layout.js';

/** What the supervisor observed about one task, besides its sandbox files. */
export interface TaskObservation {
  files: SandboxFiles;
  /** The executor process named by executor.json is alive (and is ours: same start time). */
  executorAlive: boolean;
  /**
   * The executor process this agent spawned: still 'running', 'exited', or 'unknown' (spawned
   * by an earlier run of the agent).
   */
  spawn: 'running' | 'exited' | 'unknown';
  now: number;
  /** How long an executor may take to write executor.json before the task counts as lost. */
  startGraceMs: number;
}

/** The state a task is in now, and the updates to send to get the leader there. */
export interface TaskTransition {
  observed: TaskState;
  /** States not yet reported, in order (STARTING, RUNNING, then the final state). */
  toReport: TaskState[];
  /** Why the task is lost, when it is. */
  message?: string;
}

const ORDER: Record<TaskState, number> = {
  TASK_LAUNCHED: 0,
  TASK_STARTING: 1,
  TASK_RUNNING: 2,
  TASK_FINISHED: 3,
  TASK_FAILED: 3,
  TASK_KILLED: 3,
  TASK_LOST: 3,
};

/**
 * Derives a task's state from its sandbox and process liveness (pure). The caller checks
 * liveness BEFORE reading the files: an executor writes exit.json and then exits, so a dead
 * executor with no exit.json read afterwards really vanished (TASK_LOST).
 */
export function deriveTaskTransition(o: TaskObservation): TaskTransition {
  const { files } = o;
  let observed: TaskState;
  let message: string | undefined;
  if (files.exit) {
    observed = files.exit.state;
    message = files.exit.message;
  } else if (files.executor) {
    if (o.executorAlive) observed = files.executor.taskPid ? 'TASK_RUNNING' : 'TASK_STARTING';
    else {
      observed = 'TASK_LOST';
      message = 'executor vanished without writing exit.json';
    }
  } else {
    // executor.json is the executor's first act: if its process exited without it, it failed.
    const launchedAt = files.task?.launchedAt ?? 0;
    const waiting =
      o.spawn === 'running' || (o.spawn === 'unknown' && o.now - launchedAt < o.startGraceMs);
    if (waiting) observed = 'TASK_LAUNCHED';
    else {
      observed = 'TASK_LOST';
      message = 'executor never started the task (see executor.log in the sandbox)';
    }
  }
  return { observed, toReport: statesToReport(files, observed), ...(message ? { message } : {}) };
}

function statesToReport(files: SandboxFiles, observed: TaskState): TaskState[] {
  const reported = files.reported?.state;
  if (reported && isTerminal(reported)) return [];
  const from = reported ? ORDER[reported] : 0;
  const out: TaskState[] = [];
  const started = !!files.executor;
  const ran = !!files.executor?.taskPid;
  if (started && from < 1 && ORDER[observed] >= 1) out.push('TASK_STARTING');
  if (ran && from < 2 && ORDER[observed] >= 2) out.push('TASK_RUNNING');
  if (isTerminal(observed)) out.push(observed);
  return out;
}

/** The final state an executor records for a task that ended (pure). */
export function finalStateOf(exit: {
  exitCode: number | null;
  signal: string | null;
  killRequested: boolean;
}): TaskState {
  if (exit.killRequested) return 'TASK_KILLED';
  return exit.exitCode === 0 ? 'TASK_FINISHED' : 'TASK_FAILED';
}

/**
 * Reads a sandbox with its executor's liveness checked BEFORE the files that are judged by
 * it (see {@link deriveTaskTransition}). If executor.json appears (or names another process)
 * between the liveness check and the read, that executor's liveness was never checked: it is
 * checked now and the files read again. (Seen in a chaos run: an executor that wrote
 * executor.json between the two reads was reported TASK_LOST while its task ran on.)
 */
export function observeSandbox(
  readFiles: () => SandboxFiles,
  isAlive: (executor: ExecutorJson) => boolean,
): { files: SandboxFiles; executorAlive: boolean } {
  let checked = readFiles().executor;
  for (let attempt = 0; ; attempt++) {
    const executorAlive = checked ? isAlive(checked) : false;
    const files = readFiles();
    const now = files.executor;
    const same =
      now === undefined ||
      (checked !== undefined &&
        now.executorPid === checked.executorPid &&
        now.executorStartTime === checked.executorStartTime);
    // executor.json is written once per executor: a second look settles it.
    if (same || attempt >= 2) return { files, executorAlive: same ? executorAlive : isAlive(now) };
    checked = now;
  }
}
