import { mkdirSync, rmSync } from 'node:fs';
import type { ClusterStateView } from '../api/index.js';
import { devClusterDir } from '../runtime/index.js';
import {
  type DemoService,
  type LocalAgent,
  deployDemoService,
  removeDemoService,
  startDevAgents,
  writeApiUrls,
} from './dev-agents.js';
import {
  type DevLoadBalancer,
  routeDemoService,
  startDevLoadBalancer,
} from './dev-load-balancer.js';
import { startSchedulerReplicas, type LocalReplica } from './scheduler-cluster.js';
import { fetchJson, waitFor } from './wait-for.js';
import { ZooKeeperCluster } from './zookeeper-process.js';

/** Options of `thales dev`. */
export interface DevClusterOptions {
  /** Where data and logs go (default `.thales/dev` in the repository); wiped at start. */
  dir?: string;
  replicas?: number;
  sessionTimeoutMs?: number;
}

/**
 * `thales dev`: a standalone ZooKeeper, 3 scheduler replicas, 2 agents running the demo
 * service, and an lb-agent with nginx in front of it, all on loopback; a summary of where
 * everything listens, and Ctrl-C to stop it all, in order.
 */
export async function runDevCluster(options: DevClusterOptions = {}): Promise<void> {
  const dir = options.dir ?? devClusterDir();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const say = (line: string): void => void process.stdout.write(`[thales dev] ${line}\n`);

  say(`starting ZooKeeper (data and logs in ${dir})`);
  const zk = await ZooKeeperCluster.start(dir, 1, 500);
  say(`ZooKeeper listening on ${zk.connectString}`);
  const replicas = await startSchedulerReplicas({
    count: options.replicas ?? 3,
    zkConnect: zk.connectString,
    chroot: '/thales',
    dir,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 5_000,
  });
  const started: { agents: LocalAgent[]; lb?: DevLoadBalancer } = { agents: [] };
  let stopping = false;
  const stopAll = async (exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    // The demo's tasks first (they would outlive their agents), then the agents.
    if (replicas[0]) await removeDemoService(replicas[0].url);
    await Promise.all([...started.agents.map((a) => a.process.stop()), started.lb?.process.stop()]);
    await Promise.all(replicas.map((r) => r.process.stop()));
    await zk.stop();
    say('stopped');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll());
  process.on('SIGTERM', () => void stopAll());
  try {
    await startWorkloads(say, zk.connectString, replicas, dir, started);
  } catch (err) {
    say(`failed: ${err instanceof Error ? err.message : String(err)}; logs in ${dir}`);
    await stopAll(1);
  }
}

/** Waits for a leader, starts agents and the lb-agent, deploys and routes the demo service. */
async function startWorkloads(
  say: (line: string) => void,
  zkConnect: string,
  replicas: LocalReplica[],
  dir: string,
  started: { agents: LocalAgent[]; lb?: DevLoadBalancer },
): Promise<void> {
  say(`starting ${replicas.length} scheduler replicas`);
  const api = replicas[0]?.url ?? '';
  const leader = await waitFor(
    'a leader',
    async () => {
      const s = await fetchJson<ClusterStateView>(`${api}/api/state`);
      return s?.leader && s.leader.term > 0 ? s.leader : undefined;
    },
    { timeoutMs: 60_000 },
  );
  writeApiUrls(dir, replicas);
  say('starting 2 agents and deploying the demo service (3 instances)');
  started.agents = await startDevAgents(replicas, dir);
  const demo = await deployDemoService(api);
  say('starting an lb-agent with nginx and routing the demo service through it');
  const lb = await startDevLoadBalancer(replicas, zkConnect, dir);
  started.lb = lb;
  await routeDemoService(
    api,
    demo.urls.map((u) => new URL(u).host),
  );
  printSummary(say, zkConnect, replicas, leader.replicaId, leader.term, dir);
  printTasksSummary(say, started.agents, demo);
  say('');
  say(`  open the demo service behind nginx:  ${lb.demoUrl}`);
}

function printTasksSummary(
  say: (line: string) => void,
  agents: LocalAgent[],
  demo: DemoService,
): void {
  for (const a of agents) say(`  ${a.id.padEnd(14)} http ${a.httpUrl}`);
  say('');
  say(`  demo service (request '${demo.requestId}', 3 instances of examples/demo-service.mjs):`);
  for (const url of demo.urls) say(`    curl ${url}`);
  say(
    '  client:   thales request list | thales tasks | thales agents | thales request scale demo 5',
  );
}

function printSummary(
  say: (line: string) => void,
  zkConnect: string,
  replicas: LocalReplica[],
  leaderId: string,
  term: number,
  dir: string,
): void {
  say('');
  say('Thales local cluster is up.');
  say(`  ZooKeeper      ${zkConnect}  (chroot /thales)`);
  for (const r of replicas) {
    const role = r.id === leaderId ? `LEADER (term ${term})` : 'follower';
    say(`  ${r.id.padEnd(14)} http ${r.url}  grpc 127.0.0.1:${r.grpcPort}  ${role}`);
  }
  say('');
  say(`  state:    curl ${replicas[0]?.url}/api/state`);
  say(`  metrics:  curl ${replicas[0]?.url}/metrics`);
  say(`  logs:     ${dir}/*.log`);
  say('  Ctrl-C stops everything.');
}
