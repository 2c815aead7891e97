import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ClusterStateView } from '../api/index.js';
import { startSchedulerReplicas, type LocalReplica } from './scheduler-cluster.js';
import { repoRoot } from './thales-process.js';
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
 * `thales dev`: a standalone ZooKeeper and 3 scheduler replicas on loopback, a summary of
 * where everything listens, and Ctrl-C to stop it all.
 */
export async function runDevCluster(options: DevClusterOptions = {}): Promise<void> {
  const dir = options.dir ?? path.join(repoRoot(), '.thales', 'dev');
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
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await Promise.all(replicas.map((r) => r.process.stop()));
    await zk.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll());
  process.on('SIGTERM', () => void stopAll());

  say(`starting ${replicas.length} scheduler replicas`);
  const leader = await waitFor(
    'a leader',
    async () => {
      const s = await fetchJson<ClusterStateView>(`${replicas[0]?.url}/api/state`);
      return s?.leader && s.leader.term > 0 ? s.leader : undefined;
    },
    { timeoutMs: 60_000 },
  );
  printSummary(say, zk.connectString, replicas, leader.replicaId, leader.term, dir);
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
