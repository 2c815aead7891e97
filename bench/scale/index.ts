/**
 * Scale benchmark (issue 12): a real standalone ZooKeeper, 3 real `thales scheduler`
 * replicas, and simulated agents that speak the real gRPC protocol (they report TASK_RUNNING
 * on launch and start no process; they share this process). Each figure is measured twice in
 * one run: on the empty cluster (agents registered, one probe request), then at size
 * (`--requests` requests with one deploy each, `--tasks` running tasks over them).
 *
 * - create_per_s: requests + deploys created per second by `--clients` concurrent HTTP
 *   clients spread over the replicas (empty: the first `--clients * 8` requests);
 * - idle_leader_cpu_pct, idle_zk_cpu_pct: CPU of the leader and of ZooKeeper over `--idle-s`
 *   with nothing changing (agents heartbeat, as they do);
 * - scale_to_running_p99_ms: `--scale-ups` scale-ups of the probe by one instance each, from
 *   the scale request to the new task's TASK_RUNNING on its simulated agent;
 * - list_requests_ms: `GET /api/requests` on a follower (median of 5);
 * - leader_rss_mb.
 *
 * Usage: npm run bench -- scale [--requests 10000] [--agents 1000] [--tasks 50000]
 *   [--clients 32] [--idle-s 30] [--scale-ups 50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type LocalReplica,
  ZooKeeperCluster,
  startSchedulerReplicas,
} from '../../src/dev/index.js';
import { SimAgent, closeSimAgentChannels } from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { DEFAULT_ESTABLISH_TIMEOUT_MS, LEADER_KEEPALIVE } from '../../src/runtime/index.js';
import { median, percentile } from '../stats.js';
import {
  type RunningFeed,
  cpuPercent,
  createRequests,
  rssMb,
  scaleUps,
  timedGet,
  waitActiveTasks,
} from './measure.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    agents: { type: 'string', default: '1000' },
    tasks: { type: 'string', default: '50000' },
    clients: { type: 'string', default: '32' },
    'idle-s': { type: 'string', default: '30' },
    'scale-ups': { type: 'string', default: '50' },
  },
});
const REQUESTS = Number(values.requests);
const AGENTS = Number(values.agents);
const TASKS = Number(values.tasks);
const CLIENTS = Number(values.clients);
const IDLE_S = Number(values['idle-s']);
const SCALE_UPS = Number(values['scale-ups']);
const INSTANCES = Math.max(0, Math.round(TASKS / REQUESTS));
const say = (line: string): void => void process.stderr.write(`[bench scale] ${line}\n`);

/** Figures of one phase (empty or at size). */
interface Phase {
  create_per_s: number;
  idle_leader_cpu_pct: number;
  idle_zk_cpu_pct: number;
  scale_to_running_p99_ms: number;
  list_requests_ms: number;
  leader_rss_mb: number;
}

/** Launch arrivals on the simulated agents, awaited by request id. */
class LaunchFeed implements RunningFeed {
  private readonly waiters: { prefix: string; resolve: () => void }[] = [];

  onLaunched(taskId: string): void {
    const i = this.waiters.findIndex((w) => taskId.startsWith(w.prefix));
    if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve();
  }

  nextRunning(requestId: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ prefix: `${requestId}-`, resolve }));
  }
}

async function roles(
  replicas: LocalReplica[],
): Promise<{ leader: LocalReplica; follower: LocalReplica }> {
  return waitFor('a leader agreed by all', async () => {
    const states = await Promise.all(
      replicas.map((r) => fetchJson<{ role: string }>(`${r.url}/api/state`)),
    );
    const leader = replicas[states.findIndex((s) => s?.role === 'LEADER')];
    const follower = replicas[states.findIndex((s) => s?.role === 'FOLLOWER')];
    return leader && follower ? { leader, follower } : undefined;
  });
}

function startAgents(replicas: LocalReplica[], feed: LaunchFeed): SimAgent[] {
  const schedulers = replicas.map((r) => `127.0.0.1:${r.grpcPort}`);
  return Array.from({ length: AGENTS }, (_, i) => {
    const agent = new SimAgent({
      agentId: `sim-${String(i).padStart(4, '0')}`,
      schedulers,
      cpus: 16,
      memoryMb: 65_536,
      ports: [{ begin: 31_000, end: 31_999 }],
      rack: `rack-${i % 10}`,
      onLaunch: ['TASK_RUNNING'],
      heartbeatMs: 5_000,
      // As a real agent (reconnecting-stream.ts): a leader busy with 1,000 registrations and
      // 50,000 launches stalls past the simulator's 1 s keepalive and 3 s registration
      // deadline, and each stall re-registered every agent (over 20,000 registrations).
      registerTimeoutMs: DEFAULT_ESTABLISH_TIMEOUT_MS,
      keepaliveMs: LEADER_KEEPALIVE.timeoutMs,
      onLaunched: (taskId) => feed.onLaunched(taskId),
    });
    agent.start();
    return agent;
  });
}

/** The figures of one phase (its create rate is measured by the caller). */
async function measurePhase(
  name: string,
  replicas: LocalReplica[],
  zkPid: number,
  feed: LaunchFeed,
  createPerS: number,
  probeFrom: number,
): Promise<Phase> {
  const { leader, follower } = await roles(replicas);
  const leaderPid = leader.process.pid;
  if (!leaderPid) throw new Error('leader not running');
  say(`${name}: idle CPU over ${IDLE_S} s`);
  const [leaderCpu, zkCpu] = await cpuPercent([leaderPid, zkPid], IDLE_S);
  say(`${name}: ${SCALE_UPS} scale-ups of the probe`);
  const samples = await scaleUps(follower.url, 'probe', probeFrom, SCALE_UPS, feed);
  const lists: number[] = [];
  for (let i = 0; i < 5; i++) lists.push(await timedGet(`${follower.url}/api/requests`));
  const phase: Phase = {
    create_per_s: createPerS,
    idle_leader_cpu_pct: leaderCpu ?? 0,
    idle_zk_cpu_pct: zkCpu ?? 0,
    scale_to_running_p99_ms: Math.round(percentile(samples, 99) * 10) / 10,
    list_requests_ms: median(lists),
    leader_rss_mb: rssMb(leaderPid),
  };
  say(`${name}: ${JSON.stringify(phase)}`);
  return phase;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-bench-scale-'));
  // 1 GB: ZooKeeper holds the whole tree (50,000 tasks) in memory; 256 MB ran its old
  // generation at 95 %.
  const zk = await ZooKeeperCluster.start(dir, 1, 500, 1024);
  process.env.THALES_AGENT_RECONNECT_GRACE_MS = '600000';
  process.env.THALES_AGENT_HEARTBEAT_TIMEOUT_MS = '60000';
  const replicas = await startSchedulerReplicas({
    count: 3,
    zkConnect: zk.connectString,
    chroot: '/bench',
    dir,
    sessionTimeoutMs: 10_000,
  });
  const feed = new LaunchFeed();
  let agents: SimAgent[] = [];
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const a of agents) a.stop();
      closeSimAgentChannels();
      for (const r of replicas) await r.process.stop();
      if (process.env.THALES_BENCH_KEEP) say(`logs in ${dir}`);
      await zk.stop();
      if (!process.env.THALES_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    })());
  // Ctrl-C or a timeout's SIGTERM stops what the bench started, as its end does.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second signal (timeout's and the shell's) must not kill the bench
    // halfway through stopping its processes.
    process.on(signal, () => {
      if (stopped) return;
      say(`${signal}: stopping the replicas and ZooKeeper`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  try {
    const zkPid = zk.servers[0]?.pid;
    if (!zkPid) throw new Error('ZooKeeper not running');
    await roles(replicas);
    agents = startAgents(replicas, feed);
    await waitFor('every agent registered', () => agents.every((a) => a.registered), {
      timeoutMs: 300_000,
      intervalMs: 200,
    });
    say(`${AGENTS} simulated agents registered`);
    const urls = replicas.map((r) => r.url);
    await createRequests(urls.slice(0, 1), ['probe'], 0, 1);
    const ids = Array.from({ length: REQUESTS }, (_, i) => `svc-${String(i).padStart(5, '0')}`);
    const firstBatch = Math.min(ids.length, CLIENTS * 8);

    await waitFor('the probe deploy active', async () => {
      const r = await fetchJson<{ activeDeploy?: unknown }>(
        `${urls[0]}/api/requests/request/probe`,
      );
      return !!r?.activeDeploy;
    });

    // The empty cluster (agents and the probe only); its create rate is the first batch's.
    const empty = await measurePhase('empty', replicas, zkPid, feed, 0, 0);
    empty.create_per_s = await createRequests(urls, ids.slice(0, firstBatch), INSTANCES, CLIENTS);
    say(`empty: created the first ${firstBatch} at ${empty.create_per_s} objects/s`);

    say(`creating ${REQUESTS - firstBatch} more requests with ${INSTANCES} instances each`);
    const rest = ids.slice(firstBatch);
    const create = await createRequests(urls, rest, INSTANCES, CLIENTS, undefined, (n, rate) =>
      say(`  created ${n} of ${rest.length} at ${rate} objects/s`),
    );
    say(`created at ${create} objects/s; waiting for ${REQUESTS * INSTANCES} running tasks`);
    const t0 = performance.now();
    await waitActiveTasks(
      urls[0] as string,
      REQUESTS * INSTANCES + SCALE_UPS,
      3_600_000,
      (running, active) => say(`  ${running} running of ${active} active tasks`),
    );
    say(`all tasks running ${((performance.now() - t0) / 1000).toFixed(1)} s after the creates`);
    const full = await measurePhase('full', replicas, zkPid, feed, create, SCALE_UPS);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'scale',
        requests: REQUESTS,
        agents: AGENTS,
        tasks: REQUESTS * INSTANCES,
        create_per_s: full.create_per_s,
        create_per_s_empty: empty.create_per_s,
        idle_leader_cpu_pct: full.idle_leader_cpu_pct,
        idle_leader_cpu_pct_empty: empty.idle_leader_cpu_pct,
        idle_zk_cpu_pct: full.idle_zk_cpu_pct,
        idle_zk_cpu_pct_empty: empty.idle_zk_cpu_pct,
        scale_to_running_p99_ms: full.scale_to_running_p99_ms,
        scale_to_running_p99_ms_empty: empty.scale_to_running_p99_ms,
        list_requests_ms: full.list_requests_ms,
        list_requests_ms_empty: empty.list_requests_ms,
        leader_rss_mb: full.leader_rss_mb,
        leader_rss_mb_empty: empty.leader_rss_mb,
      })}\n`,
    );
  } finally {
    await stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${String(err)}\n${(err as Error).cause ? String((err as Error).cause) : ''}\n`,
  );
  process.exit(1);
});
