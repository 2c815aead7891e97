/**
 * Finding and stopping every process a `thales dev` run started, wherever it ended up: the
 * orchestrator tags its environment with {@link DEV_RUN_ENV} (= the run's directory), and
 * every process it starts inherits it — ZooKeeper, replicas, agents, their executors and the
 * tasks these run, the lb-agent. nginx overwrites its environment with its process title, so
 * its master is found by the pid file in the lb-agent's prefix. A pure plan decides what to
 * signal from a snapshot of /proc; the driver reads /proc and sends the signals.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseProcStat } from '../agent/index.js';

/** The environment variable that marks the processes of one `thales dev` run. */
export const DEV_RUN_ENV = 'THALES_DEV_RUN';

/** One live process, as the sweep needs to know it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  startTime: number;
  /** argv joined by spaces (nginx: its title). */
  command: string;
  /** Whether its environment holds `THALES_DEV_RUN=<the run's dir>`. */
  tagged: boolean;
}

/** What to signal: single processes and whole process groups. */
export interface SweepPlan {
  /** The run's processes, in pid order. */
  members: ProcessInfo[];
  /** Process groups led by a member (an executor's task, nginx's workers), never ours. */
  groups: number[];
}

/**
 * Pure: the processes of the run among `processes`. Members are the tagged ones and the
 * nginx masters named by `nginxPids` (when their title names the run's dir, so a reused pid
 * is left alone). The caller and its ancestors are never members, and no group one of them
 * is in is ever signalled: `thales dev` and its terminal's shell, npm or test runner.
 */
export function planDevSweep(
  processes: readonly ProcessInfo[],
  run: { dir: string; selfPid: number; nginxPids: readonly number[] },
): SweepPlan {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const spared = new Set<number>();
  for (let p = byPid.get(run.selfPid); p && !spared.has(p.pid); p = byPid.get(p.ppid))
    spared.add(p.pid);
  spared.add(run.selfPid);
  const sparedGroups = new Set([...spared].map((pid) => byPid.get(pid)?.pgid));
  const nginx = new Set(run.nginxPids);
  const members = processes
    .filter((p) => !spared.has(p.pid))
    .filter((p) => p.tagged || (nginx.has(p.pid) && p.command.includes(`${run.dir}/`)))
    .sort((a, b) => a.pid - b.pid);
  const groups = members
    .filter((p) => p.pgid === p.pid && !sparedGroups.has(p.pgid))
    .map((p) => p.pgid);
  return { members, groups };
}

/** Every live (not zombie) process readable here, tagged if it belongs to the run at `dir`. */
export function listProcesses(dir: string): ProcessInfo[] {
  const tag = `${DEV_RUN_ENV}=${dir}`;
  const out: ProcessInfo[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out; // no /proc: nothing can be found (and the agent could not run either)
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0+$/, '');
      out.push({
        pid: Number(name),
        ppid: stat.ppid,
        pgid: stat.pgid,
        startTime: stat.startTime,
        command: command.replace(/\0/g, ' '),
        tagged: environOf(name).split('\0').includes(tag),
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The master pids named by nginx pid files of the run (the lb-agent's prefix). */
export function nginxPidsUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const file of [path.join(dir, 'lb-agent', 'nginx', 'nginx.pid')]) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) pids.push(pid);
    } catch {
      // no nginx started, or it removed its pid file on exit
    }
  }
  return pids;
}

/** The run's processes now (see {@link planDevSweep}). */
export function findDevProcesses(dir: string): SweepPlan {
  return planDevSweep(listProcesses(dir), {
    dir,
    selfPid: process.pid,
    nginxPids: nginxPidsUnder(dir),
  });
}

/** What {@link stopDevProcesses} found and whether anything outlived it. */
export interface SweepReport {
  /** Every process of the run seen running during the sweep. */
  found: ProcessInfo[];
  /** Those still running when it gave up. */
  left: ProcessInfo[];
}

/**
 * Stops every process of the run at `dir`: SIGCONT and SIGTERM to each (and to the groups
 * they lead), SIGKILL to what is left after `graceMs`, and again until two snapshots in a
 * row find nothing — a process started meanwhile (an executor forked by a dying agent) is
 * caught by the next one. `graceMs` 0 sends SIGKILL at once.
 */
export async function stopDevProcesses(dir: string, graceMs = 5_000): Promise<SweepReport> {
  const found = new Map<number, ProcessInfo>();
  let quiet = 0;
  for (let round = 0; quiet < 2 && round < 20; round++) {
    const plan = findDevProcesses(dir);
    for (const p of plan.members) found.set(p.pid, p);
    if (plan.members.length === 0) {
      quiet++;
      await sleep(100);
      continue;
    }
    quiet = 0;
    if (graceMs > 0) {
      signalPlan(plan, 'SIGCONT');
      signalPlan(plan, 'SIGTERM');
      await waitGone(dir, plan, graceMs);
    }
    signalPlan(findDevProcesses(dir), 'SIGKILL');
    await sleep(100);
  }
  return { found: [...found.values()], left: findDevProcesses(dir).members };
}

/** One line per process for messages: `pid command` (commands cut to 100 characters). */
export function describeProcesses(processes: readonly ProcessInfo[]): string {
  return processes
    .map((p) => `${p.pid} ${p.command.length > 100 ? `${p.command.slice(0, 100)}…` : p.command}`)
    .join('\n');
}

function signalPlan(plan: SweepPlan, signal: NodeJS.Signals): void {
  for (const pgid of plan.groups) signalQuietly(-pgid, signal);
  for (const p of plan.members) signalQuietly(p.pid, signal);
}

async function waitGone(dir: string, plan: SweepPlan, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  const pids = new Set(plan.members.map((p) => p.pid));
  while (Date.now() < deadline) {
    if (!findDevProcesses(dir).members.some((p) => pids.has(p.pid))) return;
    await sleep(100);
  }
}

function environOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return ''; // not ours to read
  }
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
