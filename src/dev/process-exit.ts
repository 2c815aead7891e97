/** How a process started by the dev tooling ended (the chaos run tells crashes from kills). */
export interface ProcessExit {
  /** The process's name (`replica-1`, `agent2`, `zk:2181`). */
  name: string;
  /** Its log file (the chaos report quotes the last line). */
  logFile: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the exit was seen (ms since the epoch). */
  at: number;
  /** Whether whoever holds the handle asked for it (stop(), or a SIGKILL/SIGTERM/SIGINT). */
  asked: boolean;
}

/** Signals that ask a process to end: after one of them, an exit is no surprise. */
export const ENDING_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT']);
