/**
 * Processes that exited without the nemesis (or the run's stop) asking: a replica, agent,
 * lb-agent or ZooKeeper member that crashed. Each is a violation of its own kind; the cluster
 * may well have carried on without it, which is exactly why nobody noticed before.
 */
import type { Violation } from './types.js';

/** An exit nobody asked for, as the run saw it. */
export interface ProcessCrash {
  name: string;
  code: number | null;
  signal: string | null;
  /** When the exit was seen (ms since the epoch). */
  at: number;
  /** The last line of the process's log (a daemon's fatal line says why). */
  lastLogLine?: string;
}

/** One `process-crashed` violation per crash. */
export function checkProcessCrashes(crashes: readonly ProcessCrash[]): Violation[] {
  return crashes.map((c) => ({
    invariant: 'crash',
    check: 'process-crashed',
    at: c.at,
    message:
      `${c.name} exited on its own (${c.signal ? `signal ${c.signal}` : `exit code ${c.code}`})` +
      (c.lastLogLine ? `; last log line: ${c.lastLogLine}` : ''),
    evidence: c,
  }));
}
