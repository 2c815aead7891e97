import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { isProcessAlive, readSandbox, WorkDirLayout } from '../../src/agent/index.js';
import { ThalesProcess, findFreePort } from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';

/** A `thales agent` process under test, with its work dir and HTTP endpoint. */
export interface AgentUnderTest {
  proc: ThalesProcess;
  workDir: string;
  httpUrl: string;
  layout: WorkDirLayout;
}

/**
 * Starts a real `thales agent` (from dist/) on a free HTTP port (`scheduler` '' → no
 * --scheduler flag, e.g. when the test passes --zk). When the test finishes the
 * agent is stopped and every executor and task group found in its sandboxes is SIGKILLed.
 */
export async function startAgentProcess(
  workDir: string,
  scheduler: string,
  extraArgs: string[] = [],
): Promise<AgentUnderTest> {
  const port = await findFreePort();
  const args = [
    'agent',
    '--work-dir',
    workDir,
    ...(scheduler ? ['--scheduler', scheduler] : []),
    '--host',
    '127.0.0.1',
    '--http-host',
    '127.0.0.1',
    '--http-port',
    String(port),
    '--cpus',
    '2',
    '--memory-mb',
    '1024',
    ...extraArgs,
  ];
  const proc = new ThalesProcess('agent', args, path.join(workDir, 'agent.log'), {
    THALES_LOG_LEVEL: 'debug',
  });
  const agent = {
    proc,
    workDir,
    httpUrl: `http://127.0.0.1:${port}`,
    layout: new WorkDirLayout(workDir),
  };
  onTestFinished(async () => {
    await proc.stop(2_000);
    await killWorkDirProcesses(workDir);
  });
  proc.start();
  await waitForAgentHttp(agent);
  return agent;
}

/**
 * A fresh work dir; when the test ends, every process recorded in its sandboxes is killed and
 * the dir removed (kept, with its logs, if the test failed).
 */
export function makeAgentWorkDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-agent-test-'));
  onTestFinished(async (ctx) => {
    await killWorkDirProcesses(dir);
    if (ctx.task.result?.state === 'fail') process.stderr.write(`[agent harness] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * Waits until the agent answers /health. Generous: a CI run once took over 20 s to start a
 * Node process while another test file had 50 executors starting on the same 2 cores.
 */
export async function waitForAgentHttp(agent: AgentUnderTest): Promise<void> {
  await waitFor('agent /health', () => fetchJson(`${agent.httpUrl}/health`), { timeoutMs: 60_000 });
}

/**
 * SIGKILLs everything the work dir's agent started: the executor and task groups recorded in
 * its sandboxes, then — for an executor forked just before the agent stopped, which records
 * itself (or starts its task) only later — every process whose command line or working
 * directory lies in the work dir, swept until two sweeps in a row find none.
 */
export async function killWorkDirProcesses(workDir: string): Promise<void> {
  killSandboxProcesses(workDir);
  for (let quiet = 0, i = 0; quiet < 2 && i < 50; i++) {
    quiet = sweepProcessesIn(workDir) === 0 ? quiet + 1 : 0;
    await sleep(100);
  }
}

/**
 * Every live (not zombie) process for which `read(procDir)` returns a value, with that value;
 * processes that exit meanwhile or cannot be read are skipped.
 */
export function scanLiveProcesses<T>(read: (procDir: string) => T | undefined): {
  pid: number;
  value: T;
}[] {
  const out: { pid: number; value: T }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (/\) Z /.test(readFileSync(`/proc/${name}/stat`, 'utf8'))) continue;
      const value = read(`/proc/${name}`);
      if (value !== undefined) out.push({ pid: Number(name), value });
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

/** Kills every live process whose argv mentions `dir` or whose cwd is inside it. */
function sweepProcessesIn(dir: string): number {
  const inDir = (p: string): boolean => p === dir || p.startsWith(`${dir}/`);
  const found = scanLiveProcesses((proc) => {
    const argv = readFileSync(`${proc}/cmdline`, 'utf8').split('\0');
    return argv.some(inDir) || inDir(readlinkSync(`${proc}/cwd`)) || undefined;
  }).filter((p) => p.pid !== process.pid);
  for (const { pid } of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return found.length;
}

/**
 * SIGKILLs every executor and task process group recorded in the work dir's sandboxes whose
 * leader is still the recorded process (pid and start time): pids cycle within minutes on a
 * busy machine (pid_max is 32768 here), and a stale pgid may by then name another test's group.
 */
export function killSandboxProcesses(workDir: string): void {
  const layout = new WorkDirLayout(workDir);
  for (const taskId of layout.listSandboxes()) {
    const e = readSandbox(layout, taskId).executor;
    if (!e) continue;
    const groups = [
      { pgid: e.executorPid, leader: e.executorPid, startTime: e.executorStartTime },
      { pgid: e.pgid, leader: e.taskPid, startTime: e.taskStartTime },
    ];
    for (const { pgid, leader, startTime } of groups) {
      if (!pgid || !leader || !isProcessAlive(leader, startTime ?? undefined)) continue;
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Pids of live processes whose environment holds TASK_ID=`taskId` (the task's processes). */
export function processesWithTaskId(taskId: string): number[] {
  const needle = `TASK_ID=${taskId}\0`;
  return scanLiveProcesses(
    (proc) => readFileSync(`${proc}/environ`, 'latin1').includes(needle) || undefined,
  ).map((p) => p.pid);
}

/** Pids of live executor processes for `taskId` (found by `--sandbox …/<taskId>` in argv). */
export function executorsOf(taskId: string): number[] {
  return scanLiveProcesses((proc) => {
    const cmd = readFileSync(`${proc}/cmdline`, 'utf8').split('\0');
    const i = cmd.indexOf('--sandbox');
    return (i >= 0 && cmd[i + 1]?.endsWith(`/sandboxes/${taskId}`)) || undefined;
  }).map((p) => p.pid);
}

/** A TaskSpec for tests (camelCase, as the fake leader sends it). */
export function testTask(
  taskId: string,
  command: string,
  args: string[] = [],
  extra: { ports?: number[]; env?: Record<string, string> } = {},
) {
  return {
    taskId,
    requestId: 'req-1',
    deployId: 'dep-1',
    instanceNo: 1,
    command,
    arguments: args,
    env: extra.env ?? {},
    resources: { cpus: 0.1, memoryMb: 64, diskMb: 10 },
    ports: extra.ports ?? [],
  };
}
