/**
 * `thales dev` as a child process in its own directory (THALES_DEV_DIR) with task ports from
 * the kernel (THALES_DEV_TASK_PORTS=auto), so it clashes neither with a developer's cluster
 * nor with other tests; and a scan of /proc for every process it started, that does not rely
 * on the product's own bookkeeping: any process whose command line, working directory or
 * environment names the run's directory (unique per test), and the members of the process
 * groups these lead (nginx's workers overwrite all three with their title).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { onTestFinished } from 'vitest';
import { readProcStat } from '../../src/agent/index.js';
import { thalesCliPath } from '../../src/dev/index.js';
import { waitFor } from '../../src/dev/wait-for.js';
import { scanLiveProcesses } from './agent-process.js';

/** A live process of a dev run, found by {@link processesOfRun}. */
export interface RunProcess {
  pid: number;
  pgid: number;
  startTime: number;
  command: string;
}

/** A `thales dev` child process and its output so far. */
export interface DevRun {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output; the timeout names it. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal) once the orchestrator has exited. */
  exited: Promise<number | string | null>;
}

/**
 * Starts `thales dev` (from dist/) in `dir`, in its own process group like a terminal's
 * foreground job. When the test ends, whatever of the run is still alive is SIGKILLed.
 */
export function startDevRun(dir: string): DevRun {
  const child = spawn(process.execPath, [thalesCliPath(), 'dev'], {
    env: { ...process.env, THALES_DEV_DIR: dir, THALES_DEV_TASK_PORTS: 'auto' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await killRun(dir);
  });
  return {
    child,
    output: () => output,
    exited,
    waitForOutput: async (pattern, timeoutMs) => {
      const found = waitFor(
        `'${pattern.source}' in the output of thales dev`,
        () => output.match(pattern) ?? undefined,
        { timeoutMs, intervalMs: 200 },
      );
      const died = exited.then((code) => {
        throw new Error(`thales dev exited (${code}) before printing '${pattern.source}'`);
      });
      try {
        return await Promise.race([found, died]);
      } catch (err) {
        throw new Error(`${(err as Error).message}; its output:\n${output.slice(-3_000)}`);
      }
    },
  };
}

/** Every live process of the run at `dir` (see the file's comment); never this process. */
export function processesOfRun(dir: string): RunProcess[] {
  const names = (text: string): boolean => text.includes(`${dir}/`) || text.includes(`=${dir}\0`);
  const named = scanLiveProcesses((proc) => {
    const command = readFileSync(`${proc}/cmdline`, 'utf8');
    const cwd = readlinkQuietly(`${proc}/cwd`);
    const environ = readFileQuietly(`${proc}/environ`);
    return names(`${command}\0`) || names(`${cwd}/`) || names(environ) || undefined;
  }).filter((p) => p.pid !== process.pid);
  const leaders = new Set(named.map((p) => p.pid));
  const all = scanLiveProcesses((proc) => {
    const stat = readProcStat(Number(proc.slice('/proc/'.length)));
    if (!stat) return undefined;
    const pid = Number(proc.slice('/proc/'.length));
    if (!leaders.has(pid) && !leaders.has(stat.pgid)) return undefined;
    const command = readFileSync(`${proc}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pgid: stat.pgid, startTime: stat.startTime, command };
  });
  return all.filter((p) => p.pid !== process.pid).map((p) => ({ pid: p.pid, ...p.value }));
}

/** Whether `p` (the same process: pid and start time) is still alive. */
export function isStillAlive(p: RunProcess): boolean {
  const stat = readProcStat(p.pid);
  return !!stat && stat.state !== 'Z' && stat.startTime === p.startTime;
}

/** SIGKILLs every process of the run and the groups they lead, until two scans find none. */
export async function killRun(dir: string): Promise<void> {
  for (let quiet = 0, i = 0; quiet < 2 && i < 50; i++) {
    const found = processesOfRun(dir);
    quiet = found.length === 0 ? quiet + 1 : 0;
    for (const p of found) {
      for (const target of p.pgid === p.pid ? [-p.pid, p.pid] : [p.pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function readlinkQuietly(file: string): string {
  try {
    return readlinkSync(file);
  } catch {
    return '';
  }
}

function readFileQuietly(file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}
