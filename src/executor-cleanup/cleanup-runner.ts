import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { WorkDirLayout } from '../agent/index.js';
import {
  type CleanupAction,
  type CleanupPlan,
  type ClusterAnswer,
  type PlanPolicy,
  type SkippedSandbox,
  makeCleanupPlan,
} from './cleanup-plan.js';
import { askCluster } from './cluster-client.js';
import { compressLogs } from './log-compressor.js';
import { reapProcesses } from './process-reaper.js';
import { scanProcesses, scanSandboxes } from './sandbox-scanner.js';

/** Everything one run needs. */
export interface CleanupRunOptions {
  workDir: string;
  /** Replica HTTP base URLs, tried in turn. */
  schedulers: readonly string[];
  policy: PlanPolicy;
  killGraceMs: number;
  requestTimeoutMs: number;
  dryRun: boolean;
  logger: Logger;
  /** Sandboxes worked on at the same time (compression and deletion are I/O bound). */
  concurrency?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** The JSON summary of one run (also the source of the metrics). */
export interface CleanupSummary {
  startedAt: string;
  durationMs: number;
  agentId: string | null;
  dryRun: boolean;
  /** The replica whose answer was used. */
  replica: string | null;
  /** Why nothing was deleted or killed, when the run was in safe mode. */
  safeMode: string | null;
  tasksExamined: number;
  activeTasks: number;
  processesKilled: number;
  killed: { taskId: string; pid: number; via: string }[];
  filesCompressed: number;
  bytesCompressed: number;
  bytesAfterCompression: number;
  sandboxesDeleted: number;
  deleted: string[];
  skipped: SkippedSandbox[];
  errors: { taskId: string; error: string }[];
  /** In a dry run: what would have been done. */
  planned?: CleanupAction[];
}

/**
 * One cleanup run: scan the sandboxes (first, so a task launched later is not in the
 * snapshot), ask the cluster, plan, and carry the plan out (unless dry-run). Never throws for
 * a single sandbox: its error is in the summary.
 */
export async function runCleanup(o: CleanupRunOptions): Promise<CleanupSummary> {
  const now = o.now ?? Date.now;
  const started = now();
  const summary = emptySummary(started, o.dryRun);
  const layout = new WorkDirLayout(o.workDir);
  const agentId = readAgentId(layout);
  if (!agentId) {
    summary.safeMode = `${layout.agentJson} is missing or has no agentId`;
    return finish(summary, now, o.logger);
  }
  summary.agentId = agentId;
  const sandboxes = scanSandboxes(layout, scanProcesses());
  summary.tasksExamined = sandboxes.length;
  const answer = await askCluster({
    replicas: o.schedulers,
    agentId,
    timeoutMs: o.requestTimeoutMs,
  });
  if (answer.kind === 'ok') summary.replica = answer.replica;
  const plan = makeCleanupPlan(sandboxes, answer, now(), o.policy);
  summary.safeMode = plan.safeMode ?? null;
  summary.activeTasks = plan.active.length;
  summary.skipped = plan.skipped;
  if (o.dryRun) summary.planned = plan.actions;
  else await carryOut(plan, answer, layout, o, summary);
  return finish(summary, now, o.logger);
}

function emptySummary(started: number, dryRun: boolean): CleanupSummary {
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    agentId: null,
    dryRun,
    replica: null,
    safeMode: null,
    tasksExamined: 0,
    activeTasks: 0,
    processesKilled: 0,
    killed: [],
    filesCompressed: 0,
    bytesCompressed: 0,
    bytesAfterCompression: 0,
    sandboxesDeleted: 0,
    deleted: [],
    skipped: [],
    errors: [],
  };
}

function finish(summary: CleanupSummary, now: () => number, logger: Logger): CleanupSummary {
  summary.durationMs = now() - Date.parse(summary.startedAt);
  if (summary.safeMode)
    logger.warn({ reason: summary.safeMode }, 'safe mode: nothing deleted or killed');
  logger.info(
    {
      tasksExamined: summary.tasksExamined,
      processesKilled: summary.processesKilled,
      bytesCompressed: summary.bytesCompressed,
      sandboxesDeleted: summary.sandboxesDeleted,
      skipped: summary.skipped.length,
      errors: summary.errors.length,
      durationMs: summary.durationMs,
    },
    'cleanup run done',
  );
  return summary;
}

function readAgentId(layout: WorkDirLayout): string | undefined {
  try {
    const v = JSON.parse(readFileSync(layout.agentJson, 'utf8')) as { agentId?: unknown };
    return typeof v.agentId === 'string' && v.agentId !== '' ? v.agentId : undefined;
  } catch {
    return undefined;
  }
}

/** Runs each task's actions in order (a failed step stops that task), tasks in parallel. */
async function carryOut(
  plan: CleanupPlan,
  answer: ClusterAnswer,
  layout: WorkDirLayout,
  o: CleanupRunOptions,
  summary: CleanupSummary,
): Promise<void> {
  if (plan.safeMode !== undefined || answer.kind !== 'ok') return;
  removeLeftoverTrash(layout);
  const byTask = new Map<string, CleanupAction[]>();
  for (const a of plan.actions) {
    // Invariant 6, checked again at the edge: never act on a task the cluster reports active.
    if (answer.activeTaskIds.has(a.taskId)) throw new Error(`plan acts on active ${a.taskId}`);
    byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), a]);
  }
  const queue = [...byTask.entries()];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      await runTaskActions(next[0], next[1], layout, o, summary);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 8) }, worker));
}

async function runTaskActions(
  taskId: string,
  actions: CleanupAction[],
  layout: WorkDirLayout,
  o: CleanupRunOptions,
  summary: CleanupSummary,
): Promise<void> {
  const log = o.logger.child({ taskId });
  for (const action of actions) {
    try {
      const ok = await runAction(action, layout, o, summary);
      log.info({ action: action.kind, reason: action.reason, ok }, 'cleanup action');
      if (!ok) return;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      summary.errors.push({ taskId, error: `${action.kind}: ${error}` });
      log.error({ action: action.kind, err: error }, 'cleanup action failed');
      return;
    }
  }
}

/** Carries out one action; false means "stop here for this task" (e.g. a process survived). */
async function runAction(
  action: CleanupAction,
  layout: WorkDirLayout,
  o: CleanupRunOptions,
  summary: CleanupSummary,
): Promise<boolean> {
  const dir = layout.sandbox(action.taskId);
  switch (action.kind) {
    case 'kill': {
      const r = await reapProcesses(action.processes, { graceMs: o.killGraceMs });
      summary.processesKilled += r.killed.length;
      for (const p of r.killed)
        summary.killed.push({ taskId: action.taskId, pid: p.pid, via: p.via });
      if (r.survivors.length > 0) {
        const pids = r.survivors.map((p) => p.pid).join(', ');
        summary.errors.push({
          taskId: action.taskId,
          error: `processes survived SIGKILL: ${pids}`,
        });
        return false;
      }
      return true;
    }
    case 'compress': {
      const r = await compressLogs(dir, action.files);
      summary.filesCompressed += r.files;
      summary.bytesCompressed += r.bytesIn;
      summary.bytesAfterCompression += r.bytesOut;
      return true;
    }
    case 'delete':
      removeSandbox(layout, action.taskId);
      summary.sandboxesDeleted += 1;
      summary.deleted.push(action.taskId);
      return true;
  }
}

/**
 * Renames the sandbox to a dot-name first (the agent and the scanner skip those), so nobody
 * ever sees a half-deleted sandbox, then removes it.
 */
function removeSandbox(layout: WorkDirLayout, taskId: string): void {
  const trash = path.join(
    layout.sandboxesDir,
    `.deleting-${taskId}-${randomBytes(4).toString('hex')}`,
  );
  renameSync(layout.sandbox(taskId), trash);
  rmSync(trash, { recursive: true, force: true });
}

/** Finishes deletions an earlier run started but did not complete (it crashed or was killed). */
function removeLeftoverTrash(layout: WorkDirLayout): void {
  if (!existsSync(layout.sandboxesDir)) return;
  for (const name of readdirSync(layout.sandboxesDir)) {
    if (name.startsWith('.deleting-'))
      rmSync(path.join(layout.sandboxesDir, name), { recursive: true, force: true });
  }
}
