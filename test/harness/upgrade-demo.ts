/**
 * The load-balanced demo service of the upgrade test: 3 instances of examples/demo-service.mjs
 * deployed through the API, put behind the lb-agent's nginx by a hand-made Baragon-style
 * request (as `thales dev` does; automatic wiring of `loadBalanced` requests is another
 * issue), and a snapshot of its tasks to compare before and after an upgrade.
 */
import path from 'node:path';
import { repoRoot } from '../../src/dev/index.js';
import { waitFor } from '../../src/dev/wait-for.js';
import { jsonOf, probe } from './http-probe.js';

/** One running demo task: its id, where it listens, and the pid that answers there. */
export interface DemoTask {
  taskId: string;
  agentId: string;
  /** The agent's host: the demo listens there (TASK_HOST). */
  host: string;
  port: number;
  pid: number;
}

const REQUEST_ID = 'demo';
const BASE_PATH = '/demo/';

/** The demo's request id and the path nginx serves it under. */
export const DEMO = { requestId: REQUEST_ID, basePath: BASE_PATH } as const;

async function call(api: string, method: string, p: string, body?: unknown): Promise<unknown> {
  const r = await probe(`${api}${p}`, { method, body, timeoutMs: 30_000 });
  if (r.kind !== 'answered' || r.status !== 200) {
    throw new Error(`${method} ${p}: ${r.kind === 'answered' ? `${r.status} ${r.body}` : r.error}`);
  }
  return JSON.parse(r.body) as unknown;
}

/** Creates the demo request and its deploy; resolves once `instances` tasks answer. */
export async function deployDemo(api: string, instances = 3): Promise<DemoTask[]> {
  await call(api, 'POST', '/api/requests', { id: REQUEST_ID, requestType: 'SERVICE', instances });
  await call(api, 'POST', '/api/deploys', {
    deploy: {
      requestId: REQUEST_ID,
      id: 'v1',
      command: process.execPath,
      arguments: [path.join(repoRoot(), 'examples', 'demo-service.mjs')],
      resources: { cpus: 0.1, memoryMb: 64, numPorts: 1 },
    },
  });
  return waitFor(
    `${instances} demo tasks running and answering`,
    async () => {
      const tasks = await demoTasks(api);
      return tasks.length === instances ? tasks : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
}

/** The demo's running tasks, each with the pid its process answers with. */
export async function demoTasks(api: string): Promise<DemoTask[]> {
  const all = (await call(api, 'GET', '/api/tasks/active')) as {
    id: string;
    requestId: string;
    agentId: string;
    host: string;
    state: string;
    ports: number[];
  }[];
  const mine = all.filter((t) => t.requestId === REQUEST_ID && t.state === 'TASK_RUNNING');
  const answers = await Promise.all(
    mine.map(async (t) => {
      const port = t.ports[0] ?? 0;
      const who = jsonOf<{ taskId: string; pid: number }>(
        await probe(`http://${t.host}:${port}/`, { timeoutMs: 5_000 }),
      );
      return who?.taskId === t.id
        ? { taskId: t.id, agentId: t.agentId, host: t.host, port, pid: who.pid }
        : undefined;
    }),
  );
  return answers
    .filter((a): a is DemoTask => a !== undefined)
    .sort((a, b) => a.taskId.localeCompare(b.taskId));
}

/** Puts `tasks` behind every lb-agent of `group` as service `demo`; waits for SUCCESS. */
export async function routeDemo(api: string, group: string, tasks: DemoTask[]): Promise<void> {
  const requestId = `demo-route-${Date.now()}`;
  await call(api, 'POST', '/api/lb/requests', {
    requestId,
    service: { serviceId: 'demo', basePath: BASE_PATH, groups: [group] },
    replaceUpstreams: tasks.map((t) => ({
      upstream: `${t.host}:${t.port}`,
      requestId: REQUEST_ID,
    })),
  });
  const state = await waitFor(
    'the load-balancer request to finish',
    async () => {
      const r = (await call(api, 'GET', `/api/lb/requests/${requestId}`)) as { state?: string };
      return r.state && r.state !== 'WAITING' && r.state !== 'CANCELING' ? r.state : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  if (state !== 'SUCCESS') throw new Error(`load-balancer request ${requestId} ended ${state}`);
}
