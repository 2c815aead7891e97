/**
 * The measurements of the scale benchmark, each over real processes: CPU and memory from
 * /proc, HTTP timings from a client of the replicas, arrivals of launches on simulated agents.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../../src/dev/wait-for.js';

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident memory of a process, in MiB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** CPU use of each pid, in % of one core, over `seconds` of wall time. */
export async function cpuPercent(pids: number[], seconds: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wall = (performance.now() - t0) / 1000;
  return pids.map((pid, i) => round1(((cpuSeconds(pid) - (before[i] ?? 0)) / wall) * 100));
}

/**
 * An HTTP call with a JSON body; throws on a non-2xx answer. A connection the server closed
 * as the call went out (a keep-alive race) is retried; a retried create that finds its
 * object already there (the first attempt landed) counts as done.
 */
export async function call(url: string, method: string, body?: unknown): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      // Pooled sockets the server closed while this process was stalled fail one by one.
      if (attempt >= 8) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      continue;
    }
    const json = (await res.json()) as { code?: string };
    if (res.ok || (attempt > 1 && json.code === 'ALREADY_EXISTS')) return json;
    throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  }
}

/** Requests between two progress reports of {@link createRequests}. */
export const PROGRESS_EVERY = 1_000;

/** Client milliseconds of one create's two POSTs (its request, then its deploy). */
export type CreateTiming = (requestMs: number, deployMs: number) => void;

/**
 * Creates requests `ids` with one deploy each through `clients` concurrent HTTP clients,
 * spread over the replicas; returns objects (requests + deploys) created per second.
 * `timing`, when given, is told each create's POST latencies; `progress`, every
 * {@link PROGRESS_EVERY} requests, how many are done and the rate so far.
 */
export async function createRequests(
  urls: string[],
  ids: string[],
  instances: number,
  clients: number,
  timing?: CreateTiming,
  progress?: (done: number, objectsPerS: number) => void,
): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async (n: number): Promise<void> => {
    const url = urls[n % urls.length] as string;
    for (let i = next++; i < ids.length; i = next++) {
      const id = ids[i] as string;
      const a = performance.now();
      await call(`${url}/api/requests`, 'POST', { id, requestType: 'SERVICE', instances });
      const b = performance.now();
      await call(`${url}/api/deploys`, 'POST', {
        deploy: {
          requestId: id,
          id: 'd1',
          command: 'true',
          resources: { cpus: 0.01, memoryMb: 8, diskMb: 0, numPorts: 1 },
        },
      });
      timing?.(b - a, performance.now() - b);
      if (++done % PROGRESS_EVERY === 0) {
        progress?.(done, round1(((done * 2) / (performance.now() - t0)) * 1000));
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, n) => worker(n)));
  return round1(((ids.length * 2) / (performance.now() - t0)) * 1000);
}

/** Milliseconds of one GET, the body read. */
export async function timedGet(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return round1(performance.now() - t0);
}

/** What a scale-up run needs to see a task reach TASK_RUNNING on a simulated agent. */
export interface RunningFeed {
  /** Resolves when a task of `requestId` has been launched and reported running. */
  nextRunning(requestId: string): Promise<void>;
}

/**
 * `count` scale-ups of `requestId` by one instance each, timed from the scale request to its
 * new task's TASK_RUNNING on a simulated agent (the agent reports running on launch).
 */
export async function scaleUps(
  url: string,
  requestId: string,
  from: number,
  count: number,
  feed: RunningFeed,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 1; i <= count; i++) {
    const running = feed.nextRunning(requestId);
    const t0 = performance.now();
    await call(`${url}/api/requests/request/${requestId}/scale`, 'PUT', { instances: from + i });
    await running;
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** Waits until `url` lists `n` active tasks (polling its memory-served list). */
export async function waitActiveTasks(
  url: string,
  n: number,
  timeoutMs: number,
  progress?: (running: number, active: number) => void,
): Promise<void> {
  let last = 0;
  let reportedAt = performance.now();
  await waitFor(
    `${n} active tasks`,
    async () => {
      const res = await fetch(`${url}/api/tasks/active`);
      const tasks = (await res.json()) as { state: string }[];
      last = tasks.filter((t) => t.state === 'TASK_RUNNING').length;
      if (performance.now() - reportedAt >= 10_000) {
        reportedAt = performance.now();
        progress?.(last, tasks.length);
      }
      return last >= n;
    },
    { timeoutMs, intervalMs: 2_000 },
  ).catch((err: unknown) => {
    throw new Error(`last seen ${last} running of ${n}`, { cause: err });
  });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
