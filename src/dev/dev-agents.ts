/**
 * The task side of `thales dev`: 2 `thales agent` processes and the demo service (3 instances
 * of examples/demo-service.mjs) deployed through the API; at Ctrl-C the demo request is
 * deleted (its tasks killed) before the agents stop, so no task outlives the cluster.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { devApiUrlsFile } from '../runtime/index.js';
import { findFreePorts } from './free-port.js';
import type { LocalReplica } from './scheduler-cluster.js';
import { ThalesProcess, repoRoot } from './thales-process.js';
import { waitFor } from './wait-for.js';

/** A local agent process and where it listens. */
export interface LocalAgent {
  id: string;
  process: ThalesProcess;
  httpUrl: string;
}

/** The running demo service: one URL per instance. */
export interface DemoService {
  requestId: string;
  urls: string[];
}

/** Starts `count` agents against `replicas`, each with its own work dir and port range. */
export async function startDevAgents(
  replicas: LocalReplica[],
  dir: string,
  count = 2,
): Promise<LocalAgent[]> {
  const ports = await findFreePorts(count);
  const schedulers = replicas.map((r) => `127.0.0.1:${r.grpcPort}`).join(',');
  return ports.map((httpPort, i) => {
    const id = `agent-${i + 1}`;
    const begin = 31_000 + i * 100;
    const proc = new ThalesProcess(
      id,
      [
        'agent',
        '--work-dir',
        path.join(dir, id),
        '--scheduler',
        schedulers,
        '--agent-id',
        id,
        '--host',
        '127.0.0.1',
        '--http-host',
        '127.0.0.1',
        '--http-port',
        String(httpPort),
        '--ports',
        `${begin}-${begin + 99}`,
      ],
      path.join(dir, `${id}.log`),
    );
    proc.start();
    return { id, process: proc, httpUrl: `http://127.0.0.1:${httpPort}` };
  });
}

async function api(base: string, method: string, p: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface DevTask {
  requestId: string;
  state: string;
  ports: number[];
}

/** Deploys the demo service through the API and waits until its instances run. */
export async function deployDemoService(base: string, instances = 3): Promise<DemoService> {
  const requestId = 'demo';
  await waitFor('the agents registered', async () => {
    const agents = (await api(base, 'GET', '/api/agents')) as unknown[];
    return agents.length >= 1;
  });
  await api(base, 'POST', '/api/requests', { id: requestId, requestType: 'SERVICE', instances });
  await api(base, 'POST', '/api/deploys', {
    deploy: {
      requestId,
      id: 'v1',
      command: process.execPath,
      arguments: [path.join(repoRoot(), 'examples', 'demo-service.mjs')],
      resources: { cpus: 0.1, memoryMb: 64, numPorts: 1 },
    },
  });
  const tasks = await waitFor(
    `${instances} demo instances running`,
    async () => {
      const all = (await api(base, 'GET', '/api/tasks/active')) as DevTask[];
      const mine = all.filter((t) => t.requestId === requestId && t.state === 'TASK_RUNNING');
      return mine.length === instances ? mine : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return { requestId, urls: tasks.map((t) => `http://127.0.0.1:${t.ports[0] ?? 0}/`) };
}

/** Deletes the demo request and waits (bounded) until its tasks are gone. */
export async function removeDemoService(base: string, requestId = 'demo'): Promise<void> {
  await api(base, 'DELETE', `/api/requests/request/${requestId}`).catch(() => undefined);
  await waitFor(
    'demo tasks stopped',
    async () => {
      const all = (await api(base, 'GET', '/api/tasks/active')) as DevTask[];
      return !all.some((t) => t.requestId === requestId);
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  ).catch(() => undefined);
}

/** Writes the replicas' URLs where the client CLI finds them. */
export function writeApiUrls(dir: string, replicas: LocalReplica[]): void {
  writeFileSync(devApiUrlsFile(dir), replicas.map((r) => r.url).join('\n') + '\n');
}
