/**
 * Task cgroups with a real executor (from dist/) and, where this host lets us, the real
 * kernel: the task is born in its own cgroup with its limits already written, the cgroup goes
 * away when the task ends, and a host without cgroup v2 says so in the task's stderr.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTaskCgroup } from '../../src/agent/cgroup-limits.js';
import { readSandbox, type WorkDirLayout } from '../../src/agent/index.js';
import { waitFor } from '../../src/dev/wait-for.js';
import { launchTask, makeCleanupWorkDir, waitForExit } from '../harness/cleanup-sandboxes.js';

/** The cgroup2 mount of this host, from /proc/self/mountinfo, if there is one. */
function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.startsWith('cgroup2 ')) return before?.split(' ')[4];
  }
  return undefined;
}

/** A fresh cgroup for this test file's tasks, if the cgroup2 hierarchy is writable here. */
function makeTestCgroupRoot(): { mount: string; root: string } | undefined {
  const mount = cgroup2Mount();
  if (!mount) return undefined;
  const root = path.join(mount, `thales-test-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(root);
    return { mount, root };
  } catch {
    return undefined;
  }
}

const cgroupHost = makeTestCgroupRoot();
const controllers = cgroupHost
  ? readFileSync(path.join(cgroupHost.root, 'cgroup.controllers'), 'utf8').split(/\s+/)
  : [];
afterAll(async () => {
  // Normally the task cgroups are gone by now (the tests wait for it); after a failure, kill
  // what is left in them and remove them, then thales/ and the root.
  if (!cgroupHost) return;
  const parent = path.join(cgroupHost.root, 'thales');
  const tasks = existsSync(parent) ? readdirSync(parent, { withFileTypes: true }) : [];
  const dirs = tasks.filter((e) => e.isDirectory()).map((e) => path.join(parent, e.name));
  for (const dir of [...dirs, parent, cgroupHost.root]) {
    const left = await removeTaskCgroup(dir);
    if (left) process.stderr.write(`[executor-cgroup] cannot remove ${left}\n`);
  }
});

function stdoutOf(layout: WorkDirLayout, taskId: string): string {
  return readFileSync(path.join(layout.sandbox(taskId), 'stdout'), 'utf8');
}
function stderrOf(layout: WorkDirLayout, taskId: string): string {
  return readFileSync(path.join(layout.sandbox(taskId), 'stderr'), 'utf8');
}

describe('task cgroups (real executor)', () => {
  it('a root that is not a cgroup v2 mount: the task runs, and its stderr says it has no limits', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'thales-no-cgroup-'));
    try {
      const { workDir, layout } = makeCleanupWorkDir('agent-cg');
      await launchTask(workDir, 'agent-cg', 'plain', 'echo started', { THALES_CGROUP_ROOT: root });
      await waitForExit(layout, 'plain');
      expect(readSandbox(layout, 'plain').exit?.state).toBe('TASK_FINISHED');
      expect(stdoutOf(layout, 'plain')).toBe('started\n');
      expect(stderrOf(layout, 'plain').split('\n')[0]).toBe(
        `[thales executor] no cgroup v2 hierarchy at ${root} (cgroup v1 or hybrid host, or ` +
          'not mounted): the task runs without memory and cpu limits',
      );
      // The executor's log is written asynchronously (pino): it may land after exit.json.
      await waitFor('the notice in executor.log', () =>
        readFileSync(path.join(layout.sandbox('plain'), 'executor.log'), 'utf8').includes(
          'no cgroup v2 hierarchy',
        )
          ? true
          : undefined,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.runIf(cgroupHost)(
    'a writable cgroup v2: the task is in its own cgroup from its first instruction, and the cgroup goes when it ends',
    async () => {
      const { mount, root } = cgroupHost as { mount: string; root: string };
      const { workDir, layout } = makeCleanupWorkDir('agent-cg');
      const dir = path.join(root, 'thales', 'born-inside');
      // First thing the task does: print its own cgroup and the memory limit it is under.
      const script = `grep '^0::' /proc/$$/cgroup; cat ${dir}/memory.max 2>/dev/null || echo no-memory.max; exec sleep 1000`;
      await launchTask(workDir, 'agent-cg', 'born-inside', script, { THALES_CGROUP_ROOT: root });
      await waitFor('the task printed its cgroup', () =>
        stdoutOf(layout, 'born-inside').includes('\n') ? true : undefined,
      );
      const [cgroupLine, memoryLine] = stdoutOf(layout, 'born-inside').split('\n');
      expect(cgroupLine).toBe(`0::/${path.relative(mount, dir)}`);
      const executor = readSandbox(layout, 'born-inside').executor;
      expect(readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')).toContain(
        String(executor?.taskPid),
      );
      // The executor went back to where it came from: only the task (and its sleep) are inside.
      expect(readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')).not.toContain(
        `${executor?.executorPid}\n`,
      );
      if (controllers.includes('memory')) {
        expect(memoryLine).toBe(String(64 * 1024 * 1024));
        expect(readFileSync(path.join(dir, 'memory.max'), 'utf8').trim()).toBe(memoryLine);
      } else {
        // This host's cgroup v2 has no memory controller (v1 holds it): said, not hidden.
        expect(memoryLine).toBe('no-memory.max');
        expect(stderrOf(layout, 'born-inside')).toContain(
          `[thales executor] cgroup v2 at ${root} does not delegate the memory`,
        );
      }
      process.kill(executor?.executorPid ?? 0, 'SIGTERM');
      await waitForExit(layout, 'born-inside');
      expect(readSandbox(layout, 'born-inside').exit?.state).toBe('TASK_KILLED');
      await waitFor('the task cgroup removed', () => !existsSync(dir));
    },
  );
});
