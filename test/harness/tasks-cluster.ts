/** Helpers of the task tests: API calls against any replica and waits on task state. */
import { afterAll } from 'vitest';
import type { TestCluster } from './cluster.js';
import { waitFor } from './cluster.js';
import { callJson } from './tasks-api-server.js';

export { callJson };

/** An active task as `GET /api/tasks/active` returns it (the fields tests read). */
export interface ActiveTask {
  id: string;
  requestId: string;
  deployId: string;
  instanceNo: number;
  agentId: string;
  state: string;
  ports: number[];
}

/** The agent grace periods {@link shortAgentGraces} sets (replicas read them at start). */
const SHORT_AGENT_GRACES = {
  THALES_AGENT_RECONNECT_GRACE_MS: '3000',
  THALES_AGENT_LOST_MS: '2000',
  THALES_AGENT_HEARTBEAT_TIMEOUT_MS: '5000',
} as const;

/**
 * Shortens the agent grace periods of replicas started after it (they inherit
 * `process.env`), until the end of the enclosing suite: call it at the top of a test file or
 * of a `describe`. The previous values (or their absence) come back in `afterAll`, including
 * a value the file changed itself after the call. `overrides` replaces some of them (a
 * test whose failover must not also lose an agent).
 */
export function shortAgentGraces(
  overrides: Partial<Record<keyof typeof SHORT_AGENT_GRACES, string>> = {},
): void {
  const graces = { ...SHORT_AGENT_GRACES, ...overrides };
  const keys = Object.keys(graces) as (keyof typeof SHORT_AGENT_GRACES)[];
  const saved = new Map(keys.map((k) => [k, process.env[k]]));
  for (const k of keys) process.env[k] = graces[k];
  afterAll(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

/** The URL of some live replica (any replica accepts reads and writes). */
export function anyUrl(cluster: TestCluster): string {
  const r = cluster.replicas.find((x) => x.process.running);
  if (!r) throw new Error('no replica running');
  return r.url;
}

/** Active tasks, from any live replica. */
export async function activeTasks(cluster: TestCluster): Promise<ActiveTask[]> {
  for (const r of cluster.replicas.filter((x) => x.process.running)) {
    try {
      const res = await callJson(`${r.url}/api/tasks/active`, 'GET', undefined, 2_000);
      if (res.status === 200) return res.body as ActiveTask[];
    } catch {
      /* try the next replica */
    }
  }
  throw new Error('no replica answered /api/tasks/active');
}

/** Creates a SERVICE request and deploys it. */
export async function createService(
  cluster: TestCluster,
  id: string,
  instances: number,
  deployId = 'd1',
  resources: Record<string, number> = { cpus: 0.1, memoryMb: 16, numPorts: 1 },
): Promise<void> {
  const url = anyUrl(cluster);
  const r = await callJson(`${url}/api/requests`, 'POST', {
    id,
    requestType: 'SERVICE',
    instances,
  });
  if (r.status !== 200) throw new Error(`create request: ${JSON.stringify(r.body)}`);
  const d = await callJson(`${url}/api/deploys`, 'POST', {
    deploy: { requestId: id, id: deployId, command: 'sleep', arguments: ['1000'], resources },
  });
  if (d.status !== 200) throw new Error(`deploy: ${JSON.stringify(d.body)}`);
}

/** Waits until the active tasks of `requestId` are exactly `n`, all RUNNING. */
export async function waitRunning(
  cluster: TestCluster,
  requestId: string,
  n: number,
  timeoutMs = 60_000,
): Promise<ActiveTask[]> {
  return waitFor(
    `${n} running tasks of ${requestId}`,
    async () => {
      const tasks = (await activeTasks(cluster)).filter((t) => t.requestId === requestId);
      return tasks.length === n && tasks.every((t) => t.state === 'TASK_RUNNING')
        ? tasks
        : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Instance numbers are distinct per deploy (invariant 3). */
export function assertDistinctInstances(tasks: ActiveTask[]): void {
  const seen = new Set<string>();
  for (const t of tasks) {
    const key = `${t.requestId}/${t.deployId}/${t.instanceNo}`;
    if (seen.has(key)) throw new Error(`two active tasks hold ${key}`);
    seen.add(key);
  }
}
