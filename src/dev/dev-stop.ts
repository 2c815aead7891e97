/**
 * Stopping a `thales dev` run: in order, each step bounded and independent of the others
 * (none needs the leader or the API), then a sweep of everything still carrying the run's tag
 * — so Ctrl-C leaves nothing running even when a step fails. Production agents leave their
 * tasks running across a restart; here the run owns its tasks and stops them itself.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { WorkDirLayout, isProcessAlive, readSandbox } from '../agent/index.js';
import type { LocalAgent } from './dev-agents.js';
import type { DevLoadBalancer } from './dev-load-balancer.js';
import { describeProcesses, stopDevProcesses } from './dev-processes.js';
import type { LocalReplica } from './scheduler-cluster.js';
import type { ZooKeeperCluster } from './zookeeper-process.js';

/** What a run has started so far (filled in as it starts). */
export interface DevRunParts {
  zk?: ZooKeeperCluster;
  replicas: LocalReplica[];
  agents: LocalAgent[];
  lb?: DevLoadBalancer;
}

/** How long one step may take before the next begins (the sweep kills what it left). */
const STEP_TIMEOUT_MS = 20_000;
/** How long tasks get to stop after SIGTERM before SIGKILL. */
const TASK_GRACE_MS = 10_000;

/**
 * Stops the run at `dir`: replicas first (no leader, so nothing is launched or replaced
 * meanwhile), agents, their tasks (SIGTERM to each executor, which forwards it to its task's
 * group and records the exit; SIGKILL after a grace), the lb-agent with its nginx, ZooKeeper;
 * then every process of the run still alive. Returns whether nothing is left.
 */
export async function stopDevRun(
  dir: string,
  parts: DevRunParts,
  say: (line: string) => void,
): Promise<boolean> {
  const stopAll = (procs: { stop(graceMs?: number): Promise<void> }[]) =>
    Promise.all(procs.map((p) => p.stop(5_000)));
  await step(say, 'the scheduler replicas', () => stopAll(parts.replicas.map((r) => r.process)));
  await step(say, 'the agents', () => stopAll(parts.agents.map((a) => a.process)));
  await step(say, 'the tasks', async () => {
    const stopped = await stopTasks(dir);
    if (stopped > 0) say(`stopped ${stopped} tasks`);
  });
  await step(say, 'the lb-agent and its nginx', () => parts.lb?.process.stop(10_000));
  await step(say, 'ZooKeeper', () => parts.zk?.stop());
  const sweep = await stopDevProcesses(dir, 3_000);
  if (sweep.found.length > 0) {
    say(`${sweep.found.length} processes of the run were still running; stopped:`);
    for (const line of describeProcesses(sweep.found).split('\n')) say(`  ${line}`);
  }
  if (sweep.left.length === 0) return true;
  say(`could not stop ${sweep.left.length} processes:`);
  for (const line of describeProcesses(sweep.left).split('\n')) say(`  ${line}`);
  return false;
}

/** Runs one stop step; a failure or a timeout is reported and the stop goes on. */
async function step(
  say: (line: string) => void,
  what: string,
  run: () => Promise<unknown> | undefined,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${STEP_TIMEOUT_MS} ms`)),
      STEP_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([run(), timeout]);
  } catch (err) {
    say(`stopping ${what} failed (${err instanceof Error ? err.message : String(err)}); going on`);
  } finally {
    clearTimeout(timer);
  }
}

/** An executor found in a sandbox, alive. */
interface LiveExecutor {
  executorPid: number;
  pgid: number | null;
}

/**
 * SIGTERMs the executor of every task in the run's agent work dirs (`<dir>/<agent>/sandboxes`),
 * waits until they are gone (the executor waits for its task), and SIGKILLs the executor and
 * the task's group of any left after the grace. Returns the number of tasks it stopped.
 */
async function stopTasks(dir: string): Promise<number> {
  const executors = liveExecutors(dir);
  for (const e of executors) signalQuietly(e.executorPid, 'SIGTERM');
  const deadline = Date.now() + TASK_GRACE_MS;
  while (Date.now() < deadline && liveExecutors(dir).length > 0)
    await new Promise((resolve) => setTimeout(resolve, 100));
  for (const e of liveExecutors(dir)) {
    if (e.pgid) signalQuietly(-e.pgid, 'SIGKILL');
    signalQuietly(e.executorPid, 'SIGKILL');
  }
  return executors.length;
}

function liveExecutors(dir: string): LiveExecutor[] {
  const out: LiveExecutor[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const layout = new WorkDirLayout(path.join(dir, entry.name));
    for (const taskId of layout.listSandboxes()) {
      const e = readSandbox(layout, taskId).executor;
      if (e && isProcessAlive(e.executorPid, e.executorStartTime))
        out.push({ executorPid: e.executorPid, pgid: e.pgid });
    }
  }
  return out;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
