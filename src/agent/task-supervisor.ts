import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import type { Logger } from 'pino';
import type { TaskSpec__Output } from '../gen/thales/v1/TaskSpec.js';
import { detach, writeJsonAtomic } from '../runtime/index.js';
import { isProcessAlive, isProcessGroupAlive, signalGroup } from './proc-stat.js';
import {
  type KillJson,
  type SandboxFiles,
  type TaskJson,
  type TaskState,
  type WorkDirLayout,
  isSafeTaskId,
  isTerminal,
  readSandbox,
} from './sandbox-layout.js';
import { deriveTaskTransition, observeSandbox } from './task-state.js';

/** A state change to put in the outbox and send. */
export interface TaskReport {
  taskId: string;
  state: TaskState;
  message: string;
  exitCode?: number;
}

/** Options of {@link TaskSupervisor}. */
export interface TaskSupervisorOptions {
  layout: WorkDirLayout;
  agentId: string;
  /** The agent's host (its `--host`): the address its tasks listen on (TASK_HOST). */
  host: string;
  /** argv that runs `thales executor` (the sandbox flag is appended). */
  executorArgv: string[];
  logger: Logger;
  /** Persists (outbox) and sends a state change; returns the update id. */
  report(report: TaskReport): string;
  pollMs?: number;
  startGraceMs?: number;
  defaultKillGraceMs?: number;
}

/** How long a poll pass runs before it lets the event loop turn. */
const POLL_SLICE_MS = 20;

interface Tracked {
  observed: TaskState;
  spawn: 'running' | 'exited' | 'unknown';
}

/**
 * Runs tasks under executors and watches them: launch and kill (both idempotent by task id),
 * re-attachment to the executors found on disk after a restart, and one report per state
 * change. All state is in the sandboxes; memory only caches what the last poll saw.
 */
export class TaskSupervisor {
  private readonly active = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly o: TaskSupervisorOptions) {}

  /** Re-attaches to every sandbox on disk and starts watching. */
  start(): void {
    mkdirSync(this.o.layout.sandboxesDir, { recursive: true });
    for (const taskId of this.o.layout.listSandboxes()) {
      const files = readSandbox(this.o.layout, taskId);
      if (!files.task) continue;
      if (files.reported && isTerminal(files.reported.state)) continue;
      this.active.set(taskId, {
        observed: files.reported?.state ?? 'TASK_LAUNCHED',
        spawn: 'unknown',
      });
      this.o.logger.info({ taskId, executor: files.executor?.executorPid }, 're-attaching to task');
    }
    this.poll();
    this.timer = setInterval(() => this.poll(), this.o.pollMs ?? 200);
  }

  /** Stops watching (tasks keep running). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Tasks not yet final, with the state last observed (for Register and GET /tasks). */
  activeTasks(): { taskId: string; state: TaskState }[] {
    return [...this.active].map(([taskId, t]) => ({ taskId, state: t.observed }));
  }

  /** Launches a task; a task already known is re-reported in its current state instead. */
  launch(spec: TaskSpec__Output): void {
    const { layout, logger } = this.o;
    const taskId = spec.taskId;
    if (!isSafeTaskId(taskId)) {
      // Bad input changes nothing: no sandbox outside sandboxes/, no process.
      logger.warn({ taskId }, 'refused a launch with an invalid task id');
      this.o.report({ taskId, state: 'TASK_LOST', message: 'invalid task id: not launched' });
      return;
    }
    const existing = readSandbox(layout, taskId);
    if (existing.task) {
      const state =
        this.active.get(taskId)?.observed ?? existing.reported?.state ?? 'TASK_LAUNCHED';
      logger.info({ taskId, state }, 'launch of a known task: reporting its state again');
      this.o.report({ taskId, state, message: 'already launched', ...exitCodeOf(existing, state) });
      return;
    }
    const dir = layout.sandbox(taskId);
    mkdirSync(dir, { recursive: true });
    const task: TaskJson = {
      ...spec,
      agentId: this.o.agentId,
      host: this.o.host,
      launchedAt: Date.now(),
    };
    writeJsonAtomic(layout.file(taskId, 'task.json'), task);
    const tracked: Tracked = { observed: 'TASK_LAUNCHED', spawn: 'running' };
    this.active.set(taskId, tracked);
    const [cmd, ...args] = this.o.executorArgv;
    const log = openSync(`${dir}/executor.log`, 'a');
    const child = spawn(cmd ?? process.execPath, [...args, '--sandbox', dir], {
      detached: true, // own process group: the task outlives an agent restart
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.once('exit', () => (tracked.spawn = 'exited'));
    child.once('error', (err) => {
      tracked.spawn = 'exited';
      logger.error({ taskId, err: err.message }, 'cannot start the executor');
    });
    child.unref();
    logger.info({ taskId, executorPid: child.pid }, 'task launched');
  }

  /** Kills a task: kill.json, SIGTERM to its group, SIGKILL after the grace period. */
  kill(taskId: string, graceMs: number, reason: string): void {
    const { layout, logger } = this.o;
    const files = isSafeTaskId(taskId) ? readSandbox(layout, taskId) : undefined;
    if (!files?.task) {
      this.o.report({
        taskId,
        state: 'TASK_LOST',
        message: 'kill of a task this agent does not know',
      });
      return;
    }
    const tracked = this.active.get(taskId);
    if (!tracked) {
      const state = files.reported?.state ?? files.exit?.state ?? 'TASK_LOST';
      this.o.report({ taskId, state, message: 'already ended', ...exitCodeOf(files, state) });
      return;
    }
    if (!files.kill) {
      const kill: KillJson = {
        requestedAt: Date.now(),
        graceMs: graceMs > 0 ? graceMs : (this.o.defaultKillGraceMs ?? 10_000),
        reason,
      };
      writeJsonAtomic(layout.file(taskId, 'kill.json'), kill);
      logger.info({ taskId, ...kill }, 'killing task');
    }
    if (files.executor?.pgid) signalGroup(files.executor.pgid, 'SIGTERM');
    else if (files.executor) signalGroup(files.executor.executorPid, 'SIGTERM');
  }

  /**
   * One pass over the active tasks: escalate kills, derive states, report changes. A report
   * fsyncs, so a pass over many changed tasks yields to the event loop every few
   * milliseconds (the heartbeat must keep going); a pass still running skips the next tick.
   */
  poll(): void {
    if (this.polling) return;
    this.polling = true;
    // A pass that fails (a sandbox unreadable, a report not written) is logged; the next tick
    // polls again, as after any pass.
    detach(
      this.pollPass().finally(() => (this.polling = false)),
      this.o.logger,
      'task poll pass',
    );
  }

  private async pollPass(): Promise<void> {
    let slice = performance.now();
    for (const [taskId, tracked] of [...this.active]) {
      if (this.active.get(taskId) !== tracked) continue; // ended while the pass yielded
      try {
        this.pollTask(taskId, tracked);
      } catch (err) {
        this.o.logger.warn({ taskId, err: String(err) }, 'task poll failed');
      }
      if (performance.now() - slice > POLL_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
  }

  private pollTask(taskId: string, tracked: Tracked): void {
    const { layout } = this.o;
    // Liveness first, files second: see deriveTaskTransition.
    const { files, executorAlive } = observeSandbox(
      () => readSandbox(layout, taskId),
      (e) => isProcessAlive(e.executorPid, e.executorStartTime),
    );
    this.escalateKill(files);
    const t = deriveTaskTransition({
      files,
      executorAlive,
      spawn: tracked.spawn,
      now: Date.now(),
      startGraceMs: this.o.startGraceMs ?? 30_000,
    });
    if (t.observed === 'TASK_LOST') this.killOrphan(files);
    for (const state of t.toReport) {
      const message = t.message ?? (state === 'TASK_KILLED' ? (files.kill?.reason ?? '') : '');
      this.o.report({ taskId, state, message, ...exitCodeOf(files, state) });
    }
    tracked.observed = t.observed;
    // A killed task stays watched until its whole group is gone (SIGKILL after the grace).
    if (isTerminal(t.observed) && !(files.kill && this.groupAlive(files)))
      this.active.delete(taskId);
  }

  private escalateKill(files: SandboxFiles): void {
    const { kill, executor } = files;
    if (!kill || !executor?.pgid) return;
    if (Date.now() >= kill.requestedAt + kill.graceMs && this.groupAlive(files)) {
      this.o.logger.warn({ taskId: files.task?.taskId }, 'grace period over: SIGKILL');
      signalGroup(executor.pgid, 'SIGKILL');
    }
  }

  private groupAlive(files: SandboxFiles): boolean {
    const pgid = files.executor?.pgid;
    return !!pgid && isProcessGroupAlive(pgid);
  }

  /** A task whose executor vanished is not supervised any more: kill what is left of it. */
  private killOrphan(files: SandboxFiles): void {
    const e = files.executor;
    if (e?.pgid && e.taskStartTime !== null && isProcessAlive(e.pgid, e.taskStartTime))
      signalGroup(e.pgid, 'SIGKILL');
  }
}

function exitCodeOf(files: SandboxFiles, state: TaskState): { exitCode?: number } {
  const code = files.exit?.exitCode;
  return isTerminal(state) && typeof code === 'number' ? { exitCode: code } : {};
}
