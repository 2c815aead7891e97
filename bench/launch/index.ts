/**
 * Launch benchmark: a 10,000-instance request onto 1,000 simulated agents that speak the real
 * gRPC protocol (register, heartbeat, status updates) but start no process; they share this
 * process. One real `thales scheduler` replica leads, on a real standalone ZooKeeper.
 *
 * Measured: from the moment the scale request (0 → N instances of an already deployed request)
 * is accepted by the API, until every Launch has reached its agent and every task is persisted
 * (`/tasks/active/<request>` holds N tasks). Agents answer each launch with TASK_RUNNING, so
 * status persistence runs (and competes) during the measurement, as in production.
 *
 * Usage: npm run bench -- launch [--tasks 10000] [--agents 1000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Coordinator } from '../../src/coordination/index.js';
import { ZooKeeperCluster, startSchedulerReplicas } from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { SimAgent, closeSimAgentChannels } from '../../src/dev/index.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '10000' },
    agents: { type: 'string', default: '1000' },
  },
});
const TASKS = Number(values.tasks);
const AGENTS = Number(values.agents);
const say = (line: string): void => void process.stderr.write(`[bench launch] ${line}\n`);

async function call(url: string, method: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-bench-launch-'));
  const zk = await ZooKeeperCluster.start(dir, 1, 500);
  process.env.THALES_AGENT_RECONNECT_GRACE_MS = '600000';
  process.env.THALES_AGENT_HEARTBEAT_TIMEOUT_MS = '60000';
  const [replica] = await startSchedulerReplicas({
    count: 1,
    zkConnect: zk.connectString,
    chroot: '/bench',
    dir,
    sessionTimeoutMs: 10_000,
  });
  const agents: SimAgent[] = [];
  // Arrivals are timed as they happen, not by polling (a poll would wait behind ZooKeeper).
  let t0 = 0;
  let received = 0;
  let launchedAt = 0;
  const marks: string[] = [];
  let nextMark = 0.25;
  const onLaunched = (): void => {
    received++;
    while (t0 > 0 && received >= nextMark * TASKS && nextMark <= 1) {
      marks.push(`${nextMark * 100}% at ${(performance.now() - t0).toFixed(0)} ms`);
      nextMark += 0.25;
    }
    if (received === TASKS) launchedAt = performance.now();
  };
  const coord = new Coordinator({
    connectString: zk.connectString,
    chroot: '/bench',
    sessionTimeoutMs: 10_000,
    logger: pino({ level: 'silent' }),
  });
  try {
    if (!replica) throw new Error('no replica');
    await waitFor('a leader', async () => {
      const s = await fetchJson<{ role: string }>(`${replica.url}/api/state`);
      return s?.role === 'LEADER';
    });
    const schedulers = [`127.0.0.1:${replica.grpcPort}`];
    for (let i = 0; i < AGENTS; i++) {
      const a = new SimAgent({
        agentId: `sim-${String(i).padStart(4, '0')}`,
        schedulers,
        cpus: 16,
        memoryMb: 65_536,
        ports: [{ begin: 31_000, end: 31_099 }],
        rack: `rack-${i % 10}`,
        onLaunch: process.env.THALES_BENCH_NO_STATUS ? [] : ['TASK_RUNNING'],
        heartbeatMs: 5_000,
        onLaunched: () => onLaunched(),
      });
      agents.push(a);
      a.start();
    }
    await waitFor('every agent registered', () => agents.every((a) => a.registered), {
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    say(`${AGENTS} simulated agents registered`);
    await call(`${replica.url}/api/requests`, 'POST', {
      id: 'bench',
      requestType: 'SERVICE',
      instances: 0,
    });
    await call(`${replica.url}/api/deploys`, 'POST', {
      deploy: {
        requestId: 'bench',
        id: 'd1',
        command: 'true',
        resources: { cpus: 0.1, memoryMb: 64, diskMb: 0, numPorts: 1 },
      },
    });
    await waitFor('the deploy active', async () => {
      const r = await fetchJson<{ activeDeploy?: unknown }>(
        `${replica.url}/api/requests/request/bench`,
      );
      return !!r?.activeDeploy;
    });
    const ready = new Promise<void>((resolve) => coord.once('session', () => resolve()));
    coord.start();
    await ready;

    await call(`${replica.url}/api/requests/request/bench/scale`, 'PUT', { instances: TASKS });
    t0 = performance.now();
    let persistedAt = 0;
    await waitFor(
      `${TASKS} launches received and persisted`,
      async () => {
        if (!persistedAt) {
          const n = (await coord.children('/tasks/active/bench').catch(() => [])).length;
          if (n >= TASKS) persistedAt = performance.now();
        }
        return launchedAt > 0 && persistedAt > 0;
      },
      { timeoutMs: 300_000, intervalMs: 5 },
    );
    const ms = Math.max(launchedAt, persistedAt) - t0;
    const launches = agents.reduce((n, a) => n + a.launches.length, 0);
    const distinct = new Set(agents.flatMap((a) => a.launches.map((l) => l.taskId))).size;
    say(`launches received: ${launches} (distinct tasks ${distinct}); ${marks.join(', ')}`);
    say(
      `all launches at ${(launchedAt - t0).toFixed(0)} ms, all persisted at ${(persistedAt - t0).toFixed(0)} ms`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'launch',
        tasks: TASKS,
        agents: AGENTS,
        ms: Math.round(ms),
        tasks_per_s: Math.round((TASKS / ms) * 1000),
      })}\n`,
    );
  } finally {
    for (const a of agents) a.stop();
    closeSimAgentChannels();
    await coord.close().catch(() => undefined);
    await replica?.process.stop();
    if (process.env.THALES_BENCH_KEEP) say(`replica log: ${replica?.process.logFile}`);
    await zk.stop();
    if (!process.env.THALES_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
