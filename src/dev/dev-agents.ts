/**
 * The task side of `thales dev`: 2 `thales agent` processes and the demo service (3 instances
 * of examples/demo-service.mjs) deployed through the API. At Ctrl-C, dev-stop.ts stops the
 * agents and then their tasks itself, so no task outlives the cluster.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { devApiUrlsFile } from '../runtime/index.js';
import { findFreePortBlock, findFreePorts } from './free-port.js';
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

/** The task ports of the dev agents unless `THALES_DEV_TASK_PORTS` says otherwise. */
export const DEFAULT_DEV_TASK_PORTS = '31000-31199';
/** Task ports per agent with `THALES_DEV_TASK_PORTS=auto`. */
const AUTO_PORTS_PER_AGENT = 10;

/**
 * The agents' `--ports` values: `begin-end` split evenly between the agents (the default,
 * 31000-31199, gives agent-1 31000-31099 and agent-2 31100-31199), or `auto`: a block of
 * ports free now at a random place in 10000-19999 — below the kernel's ephemeral range, so
 * no free-port pick or outgoing connection of the run takes one before a task binds it, and
 * apart from the ports the harness and `thales dev` hand out — for a second cluster beside a
 * developer's, or a test. Throws naming THALES_DEV_TASK_PORTS on a bad value.
 */
export async function devAgentPortRanges(spec: string, agents: number): Promise<string[]> {
  if (spec === 'auto') {
    const begin = await findFreePortBlock(agents * AUTO_PORTS_PER_AGENT);
    spec = `${begin}-${begin + agents * AUTO_PORTS_PER_AGENT - 1}`;
  }
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(spec);
  const begin = Number(m?.[1]);
  const size = Math.floor((Number(m?.[2]) - begin + 1) / agents);
  if (!m || begin < 1 || Number(m[2]) > 65535 || size < 1)
    throw new Error(
      `THALES_DEV_TASK_PORTS: expected 'auto' or begin-end within 1-65535 with at least ` +
        `${agents} ports, got '${spec}'`,
    );
  return Array.from({ length: agents }, (_, i) => {
    const from = begin + i * size;
    return `${from}-${from + size - 1}`;
  });
}

/**
 * The `--host` of dev agent i: its own loopback address (127.0.0.2, 127.0.0.3, …; Linux routes
 * all of 127/8 to lo), so the placement rules, which count per host, see two hosts and spread
 * the demo over both, and each agent's tasks listen on their agent's address (TASK_HOST).
 */
export function devAgentHost(i: number): string {
  return `127.0.0.${i + 2}`;
}

/** Starts an agent against `replicas` for each of `portRanges`, each with its own work dir. */
export async function startDevAgents(
  replicas: LocalReplica[],
  dir: string,
  portRanges: string[],
): Promise<LocalAgent[]> {
  const ports = await findFreePorts(portRanges.length);
  const schedulers = replicas.map((r) => `127.0.0.1:${r.grpcPort}`).join(',');
  return ports.map((httpPort, i) => {
    const id = `agent-${i + 1}`;
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
        devAgentHost(i),
        '--http-host',
        '127.0.0.1',
        '--http-port',
        String(httpPort),
        '--ports',
        portRanges[i] as string,
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
  host: string;
  ports: number[];
}

/** Deploys the demo service through the API and waits until its instances run. */
export async function deployDemoService(
  base: string,
  instances = 3,
  lbFields: Record<string, unknown> = {},
): Promise<DemoService> {
  const requestId = 'demo';
  await waitFor('the agents registered', async () => {
    const agents = (await api(base, 'GET', '/api/agents')) as unknown[];
    // Both, so OPTIMISTIC placement spreads the instances over them.
    return agents.length >= 2;
  });
  const loadBalanced = Object.keys(lbFields).length > 0;
  await api(base, 'POST', '/api/requests', {
    id: requestId,
    requestType: 'SERVICE',
    instances,
    agentPlacement: 'OPTIMISTIC',
    ...(loadBalanced ? { loadBalanced } : {}),
  });
  await api(base, 'POST', '/api/deploys', {
    deploy: {
      requestId,
      id: 'v1',
      command: process.execPath,
      arguments: [path.join(repoRoot(), 'examples', 'demo-service.mjs')],
      resources: { cpus: 0.1, memoryMb: 64, numPorts: 1 },
      healthcheck: { uri: '/health', startupIntervalSeconds: 1, intervalSeconds: 5 },
      ...lbFields,
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
  return { requestId, urls: tasks.map((t) => `http://${t.host}:${t.ports[0] ?? 0}/`) };
}

/** Writes the replicas' URLs where the client CLI finds them. */
export function writeApiUrls(dir: string, replicas: LocalReplica[]): void {
  writeFileSync(devApiUrlsFile(dir), replicas.map((r) => r.url).join('\n') + '\n');
}
