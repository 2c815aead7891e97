import path from 'node:path';
import type { ClusterStateView } from '../api/index.js';
import { devClusterDir } from '../runtime/index.js';
import {
  DEFAULT_DEV_TASK_PORTS,
  type DemoService,
  type LocalAgent,
  deployDemoService,
  devAgentPortRanges,
  startDevAgents,
  writeApiUrls,
} from './dev-agents.js';
import { DEMO_LB_FIELDS, startDevLoadBalancer, waitDemoRouted } from './dev-load-balancer.js';
import { DEV_RUN_ENV, stopDevProcesses } from './dev-processes.js';
import { claimDevDir } from './dev-run-dir.js';
import { type DevRunParts, stopDevRun } from './dev-stop.js';
import { startSchedulerReplicas, type LocalReplica } from './scheduler-cluster.js';
import { fetchJson, waitFor } from './wait-for.js';
import { ZooKeeperCluster } from './zookeeper-process.js';

/** Options of `thales dev`. */
export interface DevClusterOptions {
  /** Where data and logs go (default `THALES_DEV_DIR`, else `.thales/dev` in the repository); wiped at start. */
  dir?: string;
  replicas?: number;
  sessionTimeoutMs?: number;
  /** The agents' task ports, `begin-end` or `auto` (default `THALES_DEV_TASK_PORTS`, else 31000-31199). */
  taskPorts?: string;
}

/** A second signal this soon after the first is the same Ctrl-C (npm forwards it as well). */
const SAME_CTRL_C_MS = 1_000;

/**
 * `thales dev`: a standalone ZooKeeper, 3 scheduler replicas, 2 agents running the demo
 * service, and an lb-agent with nginx in front of it, all on loopback; a summary of where
 * everything listens. Ctrl-C (SIGINT), SIGTERM or SIGHUP stop it all, tasks included, in
 * order (dev-stop.ts); a second Ctrl-C kills what is left at once. What an earlier run killed
 * with SIGKILL left running is stopped at start.
 */
export async function runDevCluster(options: DevClusterOptions = {}): Promise<void> {
  const dir = path.resolve(options.dir ?? devClusterDir());
  const ports = options.taskPorts ?? process.env.THALES_DEV_TASK_PORTS ?? DEFAULT_DEV_TASK_PORTS;
  const portRanges = await devAgentPortRanges(ports, 2);
  // A closed terminal must not crash the stop half way: its output is best effort.
  process.stdout.on('error', () => undefined);
  const say = (line: string): void => void process.stdout.write(`[thales dev] ${line}\n`);
  await claimDevDir(dir, say);
  // Every process started from here on inherits the tag, and so do the ones they start.
  process.env[DEV_RUN_ENV] = dir;
  const parts: DevRunParts = { replicas: [], agents: [] };
  const run = handleStopSignals(dir, parts, say);
  try {
    say(`starting ZooKeeper (data and logs in ${dir})`);
    parts.zk = await ZooKeeperCluster.start(dir, 1, 500);
    run.aborted.throwIfAborted();
    say(`ZooKeeper listening on ${parts.zk.connectString}`);
    parts.replicas = await startSchedulerReplicas({
      count: options.replicas ?? 3,
      zkConnect: parts.zk.connectString,
      chroot: '/thales',
      dir,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 5_000,
    });
    await startWorkloads({ say, dir, parts, portRanges, aborted: run.aborted });
  } catch (err) {
    if (run.aborted.aborted) return; // a signal came during the start: the stop is under way
    say(`failed: ${err instanceof Error ? err.message : String(err)}; logs in ${dir}`);
    run.stop(1, 'start failed');
  }
}

/**
 * Installs the stop: the first SIGINT/SIGTERM/SIGHUP stops the run in order and exits; one
 * more, later than {@link SAME_CTRL_C_MS}, SIGKILLs what is left. `aborted` tells the start
 * to spawn nothing more.
 */
function handleStopSignals(
  dir: string,
  parts: DevRunParts,
  say: (line: string) => void,
): { stop(exitCode: number, why: string): void; aborted: AbortSignal } {
  const abort = new AbortController();
  let stoppingSince = 0;
  const stop = (exitCode: number, why: string): void => {
    if (stoppingSince) return;
    stoppingSince = Date.now();
    abort.abort(new Error(`stopping (${why})`));
    say(`stopping (${why})…`);
    stopDevRun(dir, parts, say).then(
      (clean) => {
        say(clean ? 'stopped' : 'stopped, but the processes above would not die');
        process.exit(clean ? exitCode : 1);
      },
      (err: unknown) => failedStop(say, err),
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stoppingSince) return stop(0, signal);
    if (Date.now() - stoppingSince < SAME_CTRL_C_MS) return;
    say(`${signal} again: killing what is left now`);
    stopDevProcesses(dir, 0).then(
      (sweep) => process.exit(sweep.left.length ? 1 : 130),
      (err: unknown) => failedStop(say, err),
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => onSignal(signal));
  return { stop, aborted: abort.signal };
}

/** Waits for a leader, starts agents and the lb-agent, deploys and routes the demo service. */
async function startWorkloads(run: {
  say: (line: string) => void;
  dir: string;
  parts: DevRunParts;
  portRanges: string[];
  aborted: AbortSignal;
}): Promise<void> {
  const { say, dir, parts, aborted } = run;
  const replicas = parts.replicas;
  const zkConnect = parts.zk?.connectString ?? '';
  say(`starting ${replicas.length} scheduler replicas`);
  const api = replicas[0]?.url ?? '';
  const leader = await waitFor(
    'a leader',
    async () => {
      aborted.throwIfAborted();
      const s = await fetchJson<ClusterStateView>(`${api}/api/state`);
      return s?.leader && s.leader.term > 0 ? s.leader : undefined;
    },
    { timeoutMs: 60_000 },
  );
  writeApiUrls(dir, replicas);
  aborted.throwIfAborted();
  say('starting 2 agents and an lb-agent with nginx');
  parts.agents = await startDevAgents(replicas, dir, run.portRanges);
  const lb = await startDevLoadBalancer(
    replicas,
    zkConnect,
    dir,
    (started) => (parts.lb = started),
  );
  aborted.throwIfAborted();
  say('deploying the demo service (3 instances, load-balanced: the leader routes them)');
  const demo = await deployDemoService(api, 3, DEMO_LB_FIELDS);
  await waitDemoRouted(api, 3);
  printSummary(say, zkConnect, replicas, leader.replicaId, leader.term, dir);
  printTasksSummary(say, parts.agents, demo);
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

/** A stop that threw: said, and a non-zero exit (the user runs `thales dev` again to sweep). */
function failedStop(say: (line: string) => void, err: unknown): void {
  say(`stopping failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
