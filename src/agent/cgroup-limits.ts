import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the unified (v2) hierarchy usually is. `THALES_CGROUP_ROOT`, which the executor
 * inherits from the agent, points elsewhere: the mount of a hybrid host, or a subtree
 * delegated to Thales (one holding no processes, so controllers can be enabled below it).
 */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** statfs(2) f_type of a cgroup v2 mount. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The cgroup v2 interface files a task's resources set, with their values. */
export interface CgroupLimits {
  'memory.max'?: string;
  'cpu.max'?: string;
}

/** What {@link prepareTaskCgroup} made ready before the task starts. */
export interface TaskCgroup {
  /** The task's own cgroup, which it is born into; undefined when it runs outside one. */
  dir: string | undefined;
  /** The limits written in `dir` before the task started. */
  applied: CgroupLimits;
  /** Why some or all of the task's limits are not in place (for the task's log). */
  notice: string | undefined;
}

const CONTROLLER_OF: Record<keyof CgroupLimits, string> = {
  'memory.max': 'memory',
  'cpu.max': 'cpu',
};

/** The cgroup root from the executor's environment (see {@link CGROUP_ROOT}). */
export function cgroupRootFromEnv(env: NodeJS.ProcessEnv): string {
  return env.THALES_CGROUP_ROOT || CGROUP_ROOT;
}

/** Pure: the limits a task's resources ask for (none for a resource of 0 or less). */
export function cgroupLimitsOf(
  resources: { cpus: number; memoryMb: number } | null | undefined,
): CgroupLimits {
  const limits: CgroupLimits = {};
  if (resources && resources.memoryMb > 0)
    limits['memory.max'] = String(Math.ceil(resources.memoryMb * 1024 * 1024));
  if (resources && resources.cpus > 0)
    limits['cpu.max'] = `${Math.ceil(resources.cpus * 100_000)} 100000`;
  return limits;
}

/**
 * Creates `<root>/thales/<taskId>` and writes the task's limits into it, before the task
 * exists, so that {@link spawnInCgroup} can start it inside. Best effort: a host without a
 * writable cgroup v2 hierarchy (cgroup v1, read-only /sys, not root), or whose hierarchy does
 * not delegate a controller, runs the task without the missing limits, and the notice says
 * which and why. A task that asks for no limits gets no cgroup.
 */
export function prepareTaskCgroup(
  taskId: string,
  resources: { cpus: number; memoryMb: number } | null | undefined,
  root: string,
): TaskCgroup {
  const wanted = cgroupLimitsOf(resources);
  const files = Object.keys(wanted) as (keyof CgroupLimits)[];
  if (files.length === 0) return { dir: undefined, applied: {}, notice: undefined };
  if (!isCgroup2(root)) {
    return {
      dir: undefined,
      applied: {},
      notice: `no cgroup v2 hierarchy at ${root} (cgroup v1 or hybrid host, or not mounted): the task runs without memory and cpu limits`,
    };
  }
  const dir = path.join(root, 'thales', taskId);
  try {
    const available = new Set(readWords(path.join(root, 'cgroup.controllers')));
    const usable = files.filter((f) => available.has(CONTROLLER_OF[f]));
    const enable = usable.map((f) => `+${CONTROLLER_OF[f]}`).join(' ');
    mkdirSync(path.dirname(dir), { recursive: true });
    if (enable) {
      writeFileSync(path.join(root, 'cgroup.subtree_control'), enable);
      writeFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), enable);
    }
    mkdirSync(dir, { recursive: true });
    const applied: CgroupLimits = {};
    for (const f of usable) {
      writeFileSync(path.join(dir, f), wanted[f] as string);
      applied[f] = wanted[f];
    }
    const missing = files.filter((f) => !usable.includes(f)).map((f) => CONTROLLER_OF[f]);
    const notice = missing.length
      ? `cgroup v2 at ${root} does not delegate the ${missing.join(' and ')} controller: the task runs in ${dir} without its ${missing.join(' and ')} limit`
      : undefined;
    return { dir, applied, notice };
  } catch (err) {
    removeQuietly(dir);
    return {
      dir: undefined,
      applied: {},
      notice: `cannot set up a cgroup under ${root} (${(err as Error).message}): the task runs without memory and cpu limits`,
    };
  }
}

/**
 * Runs `spawn` with this process inside `dir`, so the child is forked there and its first
 * instruction already runs under the limits (Node cannot run code between fork and exec);
 * then moves this process back to the cgroup it came from. Node forks synchronously inside
 * `spawn()`, so the window is one call. Without `dir`, just spawns.
 */
export function spawnInCgroup(
  dir: string | undefined,
  spawn: () => ChildProcess,
): { child: ChildProcess; notice?: string } {
  if (!dir) return { child: spawn() };
  let home: string;
  try {
    home = ownCgroupDir();
    writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid));
  } catch (err) {
    removeQuietly(dir);
    const notice = `cannot join the cgroup ${dir} (${(err as Error).message}): the task runs without memory and cpu limits`;
    return { child: spawn(), notice };
  }
  try {
    return { child: spawn() };
  } finally {
    try {
      writeFileSync(path.join(home, 'cgroup.procs'), String(process.pid));
    } catch {
      // Left in the task's cgroup, the executor's own small allocations count against the
      // task; harmless for supervision, and the cgroup is removed when the task ends.
    }
  }
}

/**
 * Removes a task's cgroup once the task has ended: kills whatever is still in it (a process
 * that left the task's process group cannot leave its cgroup), then removes the directory,
 * retrying while the kernel still counts exiting processes. Returns an error text, or
 * undefined once it is gone.
 */
export async function removeTaskCgroup(
  dir: string,
  timeoutMs = 5_000,
): Promise<string | undefined> {
  try {
    writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch {
    // cgroup.kill needs Linux 5.14; the process group was SIGKILLed already.
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code !== 'EBUSY' || Date.now() > deadline) return `${dir}: ${(err as Error).message}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isCgroup2(root: string): boolean {
  try {
    return statfsSync(root).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** This process's cgroup directory: its `0::/path` line under the cgroup2 mount. */
function ownCgroupDir(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (!line) throw new Error('no cgroup v2 entry in /proc/self/cgroup');
  const mount = cgroup2Mount();
  const dir = path.join(mount, line.slice(3));
  if (!existsSync(path.join(dir, 'cgroup.procs'))) throw new Error(`${dir} is not a cgroup`);
  return dir;
}

/** The cgroup2 mount point, from /proc/self/mountinfo (`… mountpoint … - cgroup2 …`). */
function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.startsWith('cgroup2 ')) {
      const mountPoint = before?.split(' ')[4];
      if (mountPoint) return mountPoint.replace(/\\040/g, ' ');
    }
  }
  throw new Error('no cgroup2 mount in /proc/self/mountinfo');
}

function readWords(file: string): string[] {
  return readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
}

function removeQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not created, or not empty: nothing more to do here
  }
}
