import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { TaskJson } from './sandbox-layout.js';

/** Where Thales puts one cgroup per task, under the unified (v2) hierarchy. */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * Best effort: puts the task into `/sys/fs/cgroup/thales/<taskId>` with memory.max and
 * cpu.max from its resources, when the host has cgroup v2 and lets us write there. Anything
 * else (cgroup v1, read-only /sys, no root) is logged and the task runs unlimited.
 */
export function applyCgroupLimits(task: TaskJson, pid: number, logger: Logger): boolean {
  const res = task.resources;
  if (!res || (res.cpus <= 0 && res.memoryMb <= 0)) return false;
  try {
    if (!existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))) {
      logger.info('no cgroup v2 at /sys/fs/cgroup: running the task without limits');
      return false;
    }
    accessSync(CGROUP_ROOT, constants.W_OK);
    const parent = path.join(CGROUP_ROOT, 'thales');
    mkdirSync(parent, { recursive: true });
    writeFileSync(path.join(CGROUP_ROOT, 'cgroup.subtree_control'), '+cpu +memory');
    writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+cpu +memory');
    const dir = path.join(parent, task.taskId);
    mkdirSync(dir, { recursive: true });
    if (res.memoryMb > 0)
      writeFileSync(path.join(dir, 'memory.max'), String(Math.ceil(res.memoryMb * 1024 * 1024)));
    if (res.cpus > 0)
      writeFileSync(path.join(dir, 'cpu.max'), `${Math.ceil(res.cpus * 100_000)} 100000`);
    writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    logger.info({ cgroup: dir }, 'cgroup v2 limits applied');
    return true;
  } catch (err) {
    logger.warn({ err: String(err) }, 'cgroup v2 limits not applied: running without limits');
    return false;
  }
}
