/**
 * `thales dev` stops what it started, tasks included: a real run (ZooKeeper, 3 replicas, 2
 * agents with the demo service's tasks, an lb-agent with nginx) in its own temp dir, reached
 * through nginx, then Ctrl-C; and a run killed with SIGKILL, whose leftovers the next run
 * finds and stops, and which then stops everything even with its replicas gone.
 */
import { describe, expect, it } from 'vitest';
import { fetchJson, makeTempDir, waitFor } from '../harness/index.js';
import {
  type DevRun,
  type RunProcess,
  isStillAlive,
  processesOfRun,
  startDevRun,
} from '../harness/dev-run.js';

/** Generous: a run starts a JVM and nine Node processes on 2 loaded cores. */
const START_MS = 240_000;
const STOP_MS = 120_000;

/** Waits until the run is up and the demo service answers through nginx; returns its URL. */
async function waitUntilServing(run: DevRun): Promise<string> {
  const [, url] = await run.waitForOutput(/open the demo service behind nginx:\s+(\S+)/, START_MS);
  const answer = await waitFor(
    'the demo service through nginx',
    () => fetchJson<{ taskId?: string }>(url as string),
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  expect(answer.taskId).toMatch(/^demo-/);
  return url as string;
}

interface DemoTask {
  requestId: string;
  state: string;
  agentId: string;
  host: string;
  ports: number[];
}

/**
 * The demo's instances run on both agents, each agent on its own loopback address, and each
 * instance answers on its agent's address (TASK_HOST), where nginx's upstream points.
 */
async function expectDemoSpread(run: DevRun): Promise<void> {
  const [, stateUrl] = await run.waitForOutput(/state:\s+curl (\S+)\/api\/state/, START_MS);
  const tasks = await waitFor(
    'the 3 demo instances running',
    async () => {
      const all = await fetchJson<DemoTask[]>(`${stateUrl}/api/tasks/active`);
      const demo = (all ?? []).filter((t) => t.requestId === 'demo' && t.state === 'TASK_RUNNING');
      return demo.length >= 3 ? demo : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  expect(new Set(tasks.map((t) => t.agentId))).toEqual(new Set(['agent-1', 'agent-2']));
  expect(new Set(tasks.map((t) => t.host))).toEqual(new Set(['127.0.0.2', '127.0.0.3']));
  for (const t of tasks) {
    const answer = await fetchJson<{ healthy?: boolean }>(`http://${t.host}:${t.ports[0]}/health`);
    expect(answer?.healthy, `${t.host}:${t.ports[0]}`).toBe(true);
  }
}

/** How many of `processes` run a command containing `text`. */
function count(processes: RunProcess[], text: string): number {
  return processes.filter((p) => p.command.includes(text)).length;
}

/** The scan sees every kind of process a run starts (so an empty scan later means something). */
function expectWholeRun(processes: RunProcess[]): void {
  expect(count(processes, 'QuorumPeerMain'), 'ZooKeeper').toBe(1);
  expect(count(processes, ' scheduler --replica-id'), 'replicas').toBe(3);
  expect(count(processes, ' agent --work-dir'), 'agents').toBe(2);
  // At least the demo's 3: a task found unhealthy on a loaded machine is being replaced.
  expect(count(processes, 'executor-main.js'), 'executors').toBeGreaterThanOrEqual(3);
  expect(count(processes, 'demo-service.mjs'), 'tasks').toBeGreaterThanOrEqual(3);
  expect(count(processes, ' lb-agent '), 'lb-agent').toBe(1);
  expect(count(processes, 'nginx: master'), 'nginx master').toBe(1);
  expect(count(processes, 'nginx: worker'), 'nginx workers').toBeGreaterThan(0);
}

/** Ctrl-C: SIGINT to the run's process group, as a terminal sends it; resolves with its exit. */
async function ctrlC(run: DevRun): Promise<number | string | null> {
  process.kill(-(run.child.pid as number), 'SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`thales dev still running ${STOP_MS} ms after Ctrl-C:\n${run.output()}`));
    }, STOP_MS);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function expectNothingLeft(dir: string, before: RunProcess[]): void {
  const alive = before.filter(isStillAlive).map((p) => `${p.pid} ${p.command}`);
  expect(alive, 'processes of the run still alive').toEqual([]);
  expect(processesOfRun(dir).map((p) => `${p.pid} ${p.command}`)).toEqual([]);
}

describe('thales dev stops what it started', () => {
  it(
    'Ctrl-C leaves nothing running: executors, tasks, agents, lb-agent, nginx, replicas, ZooKeeper',
    async () => {
      const dir = makeTempDir('thales-dev-test-');
      const run = startDevRun(dir);
      await waitUntilServing(run);
      await expectDemoSpread(run);
      const before = processesOfRun(dir);
      expectWholeRun(before);

      expect(await ctrlC(run)).toBe(0);
      expect(run.output()).toMatch(/stopped 3 tasks\n/);
      expect(run.output().trimEnd().split('\n').pop()).toBe('[thales dev] stopped');
      expectNothingLeft(dir, before);
    },
    START_MS + STOP_MS + 60_000,
  );

  it(
    'a run killed with SIGKILL leaves its processes; the next run stops them at start, and its own Ctrl-C with every replica gone',
    async () => {
      const dir = makeTempDir('thales-dev-test-');
      const first = startDevRun(dir);
      await waitUntilServing(first);
      process.kill(first.child.pid as number, 'SIGKILL');
      await first.exited;
      const leftovers = processesOfRun(dir);
      expectWholeRun(leftovers); // nothing could stop them: the problem the next run solves

      const second = startDevRun(dir);
      const [, found] = await second.waitForOutput(
        /found (\d+) processes left running by an earlier thales dev/,
        START_MS,
      );
      // It names each process it stops; nginx's workers go with their master's group.
      const named = leftovers.filter((p) => !p.command.startsWith('nginx: worker'));
      expect(Number(found)).toBe(named.length);
      await waitUntilServing(second);
      expect(leftovers.filter(isStillAlive).map((p) => p.command)).toEqual([]);

      // Without a leader (or any replica) the stop must not depend on the API.
      const running = processesOfRun(dir);
      expectWholeRun(running);
      const replicas = running.filter((p) => p.command.includes(' scheduler --replica-id'));
      for (const r of replicas) process.kill(r.pid, 'SIGKILL');
      await waitFor('the replicas dead', () => !replicas.some(isStillAlive));

      expect(await ctrlC(second)).toBe(0);
      expect(second.output().trimEnd().split('\n').pop()).toBe('[thales dev] stopped');
      expectNothingLeft(dir, running);
    },
    2 * START_MS + STOP_MS + 60_000,
  );
});
