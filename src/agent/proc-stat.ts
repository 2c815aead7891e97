import { readFileSync, readdirSync } from 'node:fs';

/** What /proc/<pid>/stat tells us about a process. */
export interface ProcStat {
  /** One-letter state: R, S, D, Z (zombie), T… */
  state: string;
  /** The parent's pid (1, or a subreaper, once the parent is gone). */
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for ever. */
  startTime: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may
 * itself hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields after the name, starting with field 3 (state) at index 0.
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (!state || !Number.isFinite(ppid) || !Number.isFinite(pgid) || !Number.isFinite(startTime))
    return undefined;
  return { state, ppid, pgid, startTime };
}

/** Reads /proc/<pid>/stat, or undefined if the process does not exist. */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live process (a zombie is dead: nobody may ever reap it once its parent,
 * the agent or executor, is gone) and, when `startTime` is given, the very process we started
 * rather than a newer one that reused the pid.
 */
export function isProcessAlive(pid: number, startTime?: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = readProcStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Whether any live (non-zombie) process is in process group `pgid`. */
export function isProcessGroupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // kill(-pgid, 0) also succeeds for zombies; look for a member that is not one.
  return groupMembers(pgid).some((pid) => isProcessAlive(pid));
}

/** The pids of process group `pgid` (scans /proc). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    if (readProcStat(pid)?.pgid === pgid) out.push(pid);
  }
  return out;
}

/** Sends `signal` to process group `pgid`; false if the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
