/**
 * The pure decision core of executor cleanup: from a snapshot of the local sandboxes, the
 * cluster's answer and the time, a plan of actions with their reasons. No I/O here; the
 * drivers (sandbox-scanner, cluster-client, process-reaper, log-compressor) live around it.
 */

/** A process that belongs to a task, named by pid and /proc start time (never reused). */
export interface TaskProcess {
  pid: number;
  startTime: number;
  /** How it was found: the executor, a member of the task's group, or by TASK_ID in environ. */
  via: 'executor' | 'group' | 'environ';
}

/** What the scanner saw of one sandbox. */
export interface SandboxSnapshot {
  taskId: string;
  /** Set when the sandbox cannot be judged (task.json missing, corrupt, or of another task). */
  problem?: string;
  /** When task.json says the task was launched (ms), if readable. */
  launchedAt?: number;
  /** exit.json's end time and state, if the executor wrote it. */
  exit?: { finishedAt: number; state: string; exitCode: number | null };
  /** Newest modification time of the sandbox's files (ms): the end time when exit.json is missing. */
  lastModifiedAt: number;
  /** Live processes of the task (verified by start time). */
  processes: TaskProcess[];
  /** Log files (sandbox-relative names) not yet gzipped: current and rotated. */
  uncompressedLogs: string[];
}

/** The cluster's answer to "which tasks are active on this agent?". */
export type ClusterAnswer =
  | { kind: 'ok'; replica: string; activeTaskIds: ReadonlySet<string>; agentState?: string }
  | { kind: 'unreachable'; errors: string[] }
  | { kind: 'malformed'; replica: string; reason: string };

/** Retention and safety settings the plan depends on. */
export interface PlanPolicy {
  /** How long the sandbox of a task that ended well is kept after it ended (ms). */
  retentionMs: number;
  /** Same for failed or lost tasks (kept longer so people can debug them). */
  failedRetentionMs: number;
  /**
   * Sandboxes launched less than this long ago are left alone: covers a replica whose cache
   * has not yet seen a task the leader has just launched.
   */
  launchGraceMs: number;
}

/** One step the runner takes for a task; a task's steps run in order, stopping at a failure. */
export type CleanupAction =
  | { kind: 'kill'; taskId: string; processes: TaskProcess[]; reason: string }
  | { kind: 'compress'; taskId: string; files: string[]; reason: string }
  | { kind: 'delete'; taskId: string; reason: string };

/** A sandbox left alone this run, and why. */
export interface SkippedSandbox {
  taskId: string;
  reason: string;
}

/** The plan of one run. `safeMode` set ⇒ no action at all. */
export interface CleanupPlan {
  safeMode?: string;
  actions: CleanupAction[];
  skipped: SkippedSandbox[];
  /** Tasks the cluster reports active (left alone by design, not counted as skipped). */
  active: string[];
}

/** Agent states in which an empty task list is expected rather than suspicious. */
const DECOMMISSIONED_STATES: ReadonlySet<string> = new Set(['DECOMMISSIONING', 'DECOMMISSIONED']);

/** exit.json states that count as a failure for retention. */
const FAILED_STATES: ReadonlySet<string> = new Set(['TASK_FAILED', 'TASK_LOST']);

/**
 * The plan for one run. Guarantees (property-tested): nothing is ever planned for a task the
 * cluster reports active (DESIGN invariant 6), and in safe mode the plan has no action.
 */
export function makeCleanupPlan(
  sandboxes: readonly SandboxSnapshot[],
  answer: ClusterAnswer,
  now: number,
  policy: PlanPolicy,
): CleanupPlan {
  const safeMode = safeModeReason(sandboxes, answer);
  if (safeMode !== undefined) return { safeMode, actions: [], skipped: [], active: [] };
  const active = (answer as Extract<ClusterAnswer, { kind: 'ok' }>).activeTaskIds;
  const plan: CleanupPlan = { actions: [], skipped: [], active: [] };
  for (const s of sandboxes) {
    if (active.has(s.taskId)) plan.active.push(s.taskId);
    else planSandbox(s, now, policy, plan);
  }
  return plan;
}

/** Why this run must not delete or kill anything, or undefined if it may. */
export function safeModeReason(
  sandboxes: readonly SandboxSnapshot[],
  answer: ClusterAnswer,
): string | undefined {
  if (answer.kind === 'unreachable')
    return `no scheduler replica answered (${answer.errors.join('; ') || 'none configured'})`;
  if (answer.kind === 'malformed')
    return `the answer of ${answer.replica} is malformed: ${answer.reason}`;
  const running = sandboxes.filter((s) => s.problem === undefined && s.processes.length > 0);
  if (
    answer.activeTaskIds.size === 0 &&
    running.length > 0 &&
    !DECOMMISSIONED_STATES.has(answer.agentState ?? '')
  ) {
    return (
      `${answer.replica} reports no active task on this agent while ${running.length} local ` +
      `task(s) still run and the agent is not decommissioned (state ${answer.agentState ?? 'unknown'})`
    );
  }
  return undefined;
}

function planSandbox(s: SandboxSnapshot, now: number, policy: PlanPolicy, plan: CleanupPlan): void {
  if (s.problem !== undefined) {
    plan.skipped.push({ taskId: s.taskId, reason: s.problem });
    return;
  }
  if (s.launchedAt !== undefined && now - s.launchedAt < policy.launchGraceMs) {
    plan.skipped.push({ taskId: s.taskId, reason: 'launched less than the launch grace ago' });
    return;
  }
  const notActive = 'not active in the cluster';
  if (s.processes.length > 0) {
    plan.actions.push({
      kind: 'kill',
      taskId: s.taskId,
      processes: s.processes,
      reason: `${notActive} but ${s.processes.length} process(es) still alive`,
    });
  }
  // A task killed this run ends now: its retention starts now.
  const endedAt = s.processes.length > 0 ? now : (s.exit?.finishedAt ?? s.lastModifiedAt);
  const failed = isFailed(s);
  const expired = now - endedAt >= (failed ? policy.failedRetentionMs : policy.retentionMs);
  // Logs about to be deleted are not worth compressing first.
  if (s.uncompressedLogs.length > 0 && !expired) {
    plan.actions.push({
      kind: 'compress',
      taskId: s.taskId,
      files: s.uncompressedLogs,
      reason: `${notActive}: logs compressed`,
    });
  }
  if (expired) {
    plan.actions.push({
      kind: 'delete',
      taskId: s.taskId,
      reason: `${failed ? 'failed' : 'finished'} ${Math.round((now - endedAt) / 1000)} s ago, past its retention`,
    });
  } else if (s.uncompressedLogs.length === 0 && s.processes.length === 0) {
    plan.skipped.push({ taskId: s.taskId, reason: 'in retention' });
  }
}

/** Failed, lost, or ended without telling (no exit.json): kept for the failed retention. */
function isFailed(s: SandboxSnapshot): boolean {
  return s.exit === undefined || FAILED_STATES.has(s.exit.state);
}
