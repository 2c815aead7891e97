import { isProcessAlive } from '../agent/index.js';
import type { TaskProcess } from './cleanup-plan.js';

/** Options of {@link reapProcesses}. */
export interface ReapOptions {
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  /** How long to wait for SIGKILLed processes to disappear before giving up. */
  killWaitMs?: number;
  pollMs?: number;
}

/** What {@link reapProcesses} did. */
export interface ReapResult {
  /** Processes alive at the start that are gone now. */
  killed: TaskProcess[];
  /** Processes still alive after SIGKILL (e.g. in uninterruptible sleep). */
  survivors: TaskProcess[];
}

/**
 * SIGTERM to each process, a grace period, SIGKILL to what is left. Each process is named by
 * pid and start time and checked again right before every signal, so a pid reused by an
 * unrelated process is never signalled. Signals go to pids, never to a process group, for
 * the same reason.
 */
export async function reapProcesses(procs: TaskProcess[], o: ReapOptions): Promise<ReapResult> {
  const targets = procs.filter((p) => isProcessAlive(p.pid, p.startTime));
  const alive = (): TaskProcess[] => targets.filter((p) => isProcessAlive(p.pid, p.startTime));
  signalEach(alive(), 'SIGTERM');
  await waitUntilGone(alive, o.graceMs, o.pollMs ?? 50);
  if (alive().length > 0) {
    signalEach(alive(), 'SIGKILL');
    await waitUntilGone(alive, o.killWaitMs ?? 5_000, o.pollMs ?? 50);
  }
  const survivors = alive();
  return { killed: targets.filter((p) => !survivors.includes(p)), survivors };
}

function signalEach(procs: TaskProcess[], signal: NodeJS.Signals): void {
  for (const p of procs) {
    if (!isProcessAlive(p.pid, p.startTime)) continue;
    try {
      process.kill(p.pid, signal);
    } catch {
      // exited between the check and the signal
    }
  }
}

async function waitUntilGone(
  alive: () => TaskProcess[],
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (alive().length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
