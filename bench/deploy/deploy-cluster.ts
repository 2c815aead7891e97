/**
 * The deploy bench's cluster: real ZooKeeper, 3 scheduler replicas, 4 real task agents and 2
 * lb-agents with their own nginx (bench/failover/bench-agents.ts, all finding the leader
 * through ZooKeeper), and a ZooKeeper session of the bench's own to read the product's
 * records through the product's own stores (`taskStore`, `lbStore`). `stop` ends every process it started, the tasks' processes included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Coordinator } from '../../src/coordination/index.js';
import {
  ZooKeeperCluster,
  startSchedulerReplicas,
  type LocalReplica,
} from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { LbRequestStore } from '../../src/lb/index.js';
import { TaskStore, statePaths } from '../../src/state/index.js';
import { killWorkDirProcesses } from '../../test/harness/agent-process.js';
import {
  BENCH_GROUP,
  type BenchAgentResources,
  type BenchDaemon,
  startBenchDaemons,
  stopBenchDaemons,
} from '../failover/bench-agents.js';

/** The cluster's shape. */
export interface DeployClusterOptions {
  replicas: number;
  agents: number;
  lbAgents: number;
  agentResources: BenchAgentResources;
  sessionTimeoutMs: number;
}

/** The running cluster of the deploy bench. */
export class DeployBenchCluster {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'thales-bench-deploy-'));
  readonly chroot = '/bench-deploy';
  readonly group = BENCH_GROUP;
  zkCluster: ZooKeeperCluster | undefined;
  replicas: LocalReplica[] = [];
  daemons: BenchDaemon[] = [];
  zk: Coordinator | undefined;
  /** The product's task records, read on the bench's session (set by `start`). */
  taskStore: TaskStore | undefined;
  /** The product's load-balancer records, read on the bench's session (set by `start`). */
  lbStore: LbRequestStore | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly o: DeployClusterOptions) {}

  /** Starts everything; resolves once every agent registered and every lb-agent joined. */
  async start(): Promise<void> {
    this.zkCluster = await ZooKeeperCluster.start(path.join(this.dir, 'zk'), 1, 200);
    this.replicas = await startSchedulerReplicas({
      count: this.o.replicas,
      zkConnect: this.zkCluster.connectString,
      chroot: this.chroot,
      dir: this.dir,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
    });
    await this.leaderUrl();
    this.zk = new Coordinator({
      connectString: this.zkCluster.connectString,
      chroot: this.chroot,
      sessionTimeoutMs: 15_000,
      logger: pino({ level: 'silent' }),
    });
    this.zk.start();
    this.taskStore = new TaskStore(this.zk);
    const lbStore = new LbRequestStore(this.zk);
    this.lbStore = lbStore;
    this.daemons = await startBenchDaemons({
      dir: this.dir,
      zkConnect: this.zkCluster.connectString,
      chroot: this.chroot,
      agents: this.o.agents,
      lbAgents: this.o.lbAgents,
      agentResources: this.o.agentResources,
    });
    const zk = this.zk;
    await waitFor(
      `${this.o.agents} agents registered and ${this.o.lbAgents} lb-agents joined`,
      async () => {
        const agents = await zk.children(statePaths.agentsDir).catch(() => []);
        const lbs = (await lbStore.groupAgents(this.group).catch(() => null)) ?? [];
        if (agents.length >= this.o.agents && lbs.length >= this.o.lbAgents) return true;
        throw new Error(`agents [${agents.join(', ')}], lb-agents [${lbs.join(', ')}]`);
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
  }

  /** The nginx ports of the lb-agents. */
  nginxPorts(): number[] {
    return this.daemons.flatMap((d) => (d.nginxPort ? [d.nginxPort] : []));
  }

  /** The URL of a replica that answers (any replica accepts writes). */
  async anyUrl(): Promise<string> {
    return waitFor('a replica answering', async () => {
      for (const r of this.replicas) {
        if (r.process.running && (await fetchJson(`${r.url}/api/state`, 1_000))) return r.url;
      }
      return undefined;
    });
  }

  /** The leader's URL (waits for one). */
  async leaderUrl(): Promise<string> {
    return waitFor(
      'a leader',
      async () => {
        for (const r of this.replicas) {
          const s = await fetchJson<{ role?: string; term?: number }>(`${r.url}/api/state`, 1_000);
          if (s?.role === 'LEADER' && (s.term ?? 0) > 0) return r.url;
        }
        return undefined;
      },
      { timeoutMs: 60_000 },
    );
  }

  /** Stops every process (once, however often called) and removes the directory. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    await stopBenchDaemons(this.daemons);
    // Executors and tasks run detached (they outlive an agent by design): killed by work dir.
    for (const d of this.daemons) if (d.kind === 'agent') await killWorkDirProcesses(d.workDir);
    await Promise.all(this.replicas.map((r) => r.process.stop(3_000)));
    await this.zk?.close();
    await this.zkCluster?.stop();
    if (process.env.DEPLOY_BENCH_KEEP) process.stdout.write(`kept ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
