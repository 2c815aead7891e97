/**
 * The cluster of a chaos run, all real processes on loopback: a 3-node ZooKeeper ensemble,
 * scheduler replicas (each under its own gid, so its ZooKeeper link can be cut), real
 * `thales agent`s with their own port ranges, and an lb-agent with its nginx. `stop()` takes
 * everything down, tasks and nginx included, whatever state the faults left it in.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ClusterStateView } from '../../../../src/api/index.js';
import {
  ThalesProcess,
  ZooKeeperCluster,
  findFreePorts,
  type LocalReplica,
} from '../../../../src/dev/index.js';
import { fetchJson, waitFor } from '../../../../src/dev/wait-for.js';
import { killWorkDirProcesses } from '../../../harness/agent-process.js';
import { RUN_MARKER } from './process-sweep.js';

/** What the cluster is made of and how its daemons are tuned. */
export interface ChaosClusterOptions {
  dir: string;
  chroot: string;
  replicas: number;
  agents: number;
  sessionTimeoutMs: number;
  zkTickMs: number;
  agentCpus: number;
  agentMemoryMb: number;
  /** Environment of the scheduler replicas (agent grace periods…). */
  replicaEnv: Record<string, string>;
  /** The lb-agents' group. */
  lbGroup: string;
}

/** A scheduler replica; `gid` is what iptables matches to cut its ZooKeeper link. */
export interface ChaosReplica extends LocalReplica {
  gid: number;
}

/** A `thales agent`. */
export interface ChaosAgent {
  id: string;
  workDir: string;
  httpUrl: string;
  ports: { begin: number; end: number };
  process: ThalesProcess;
}

/** The lb-agent and its nginx. */
export interface ChaosLbAgent {
  id: string;
  workDir: string;
  nginxPort: number;
  httpPort: number;
  process: ThalesProcess;
}

const PORTS_PER_AGENT = 40;
/** Group ids of the replicas: replica i runs under GID_BASE + i. */
const GID_BASE = 47_100;

/** A running chaos cluster. */
export class ChaosCluster {
  private constructor(
    readonly options: ChaosClusterOptions,
    readonly zk: ZooKeeperCluster,
    readonly replicas: ChaosReplica[],
    readonly agents: ChaosAgent[],
    readonly lb: ChaosLbAgent,
  ) {}

  /** Starts ZooKeeper, then the replicas, then (once a leader is elected) agents and lb-agent. */
  static async start(o: ChaosClusterOptions, say: (line: string) => void): Promise<ChaosCluster> {
    say(`starting a 3-node ZooKeeper ensemble in ${o.dir}`);
    const zk = await ZooKeeperCluster.start(path.join(o.dir, 'zk'), 3, o.zkTickMs);
    const replicas = await startReplicas(o, zk.connectString);
    const agentPorts = await findAgentPortRanges(o.agents);
    const agents = await makeAgents(o, replicas, agentPorts);
    const lb = await makeLbAgent(o, zk.connectString);
    const cluster = new ChaosCluster(o, zk, replicas, agents, lb);
    try {
      say(`started ${replicas.length} replicas; waiting for a leader`);
      await waitFor('a leader', () => cluster.leader(), { timeoutMs: 90_000, intervalMs: 200 });
      for (const a of agents) a.process.start();
      lb.process.start();
      say(`started ${agents.length} agents and lb-agent ${lb.id}; waiting for them to register`);
      await cluster.waitAgentsRegistered();
      await cluster.waitLbJoined();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The client ports of the ensemble (what a link cut drops). */
  get zkClientPorts(): number[] {
    return this.zk.servers.map((s) => s.options.clientPort);
  }

  /** The replica every live replica's state calls LEADER (with a term), if any answers so. */
  async leader(): Promise<ChaosReplica | undefined> {
    const states = await Promise.all(
      this.replicas.map((r) =>
        r.process.running
          ? fetchJson<ClusterStateView>(`${r.url}/api/state`, 1_000)
          : Promise.resolve(undefined),
      ),
    );
    const leaders = this.replicas.filter((_, i) => {
      const s = states[i];
      return s?.role === 'LEADER' && s.term > 0;
    });
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Waits until every agent is registered (listed by some replica). */
  async waitAgentsRegistered(timeoutMs = 90_000): Promise<void> {
    await waitFor(
      `${this.agents.length} agents registered`,
      async () => {
        for (const r of this.replicas) {
          const list = await fetchJson<{ id: string }[]>(`${r.url}/api/agents`, 1_000);
          const ids = new Set((list ?? []).map((a) => a.id));
          if (this.agents.every((a) => ids.has(a.id))) return true;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Waits until the lb-agent has joined its group. */
  async waitLbJoined(timeoutMs = 90_000): Promise<void> {
    const g = this.options.lbGroup;
    await waitFor(
      `lb-agent joined group ${g}`,
      async () => {
        for (const r of this.replicas) {
          const group = await fetchJson<{ agents?: string[] }>(
            `${r.url}/api/lb/groups/${g}`,
            1_000,
          );
          if ((group?.agents?.length ?? 0) > 0) return true;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Stops everything (SIGCONT first), tasks and nginx included. Never throws. */
  async stop(): Promise<void> {
    await this.stopDaemons();
    await this.stopZooKeeper();
  }

  private daemonsStopped = false;

  /** Stops the lb-agent and nginx, the agents and every task, then the replicas. */
  async stopDaemons(): Promise<void> {
    if (this.daemonsStopped) return;
    this.daemonsStopped = true;
    const all = [...this.replicas.map((r) => r.process), ...this.agents.map((a) => a.process)];
    for (const p of [...all, this.lb.process]) p.signal('SIGCONT');
    await this.lb.process.stop(3_000).catch(() => undefined);
    killNginx(path.join(this.lb.workDir, 'nginx'));
    await Promise.all(this.agents.map((a) => a.process.stop(3_000).catch(() => undefined)));
    await Promise.all(this.agents.map((a) => killWorkDirProcesses(a.workDir)));
    await Promise.all(this.replicas.map((r) => r.process.stop(3_000).catch(() => undefined)));
  }

  /** Stops the ensemble (its logs stay, for the checker). */
  async stopZooKeeper(): Promise<void> {
    await this.zk.stop().catch(() => undefined);
  }

  /** The data directory of each ensemble member. */
  get zkDataDirs(): string[] {
    return this.zk.servers.map((s) => path.join(s.options.dir, 'data'));
  }
}

async function startReplicas(o: ChaosClusterOptions, zkConnect: string): Promise<ChaosReplica[]> {
  const ports = await findFreePorts(o.replicas * 2);
  return Array.from({ length: o.replicas }, (_, i) => {
    const id = `replica-${i + 1}`;
    const httpPort = ports[2 * i] as number;
    const grpcPort = ports[2 * i + 1] as number;
    const args = [
      'scheduler',
      ...['--replica-id', id, '--zk', zkConnect, '--chroot', o.chroot],
      ...['--session-timeout-ms', String(o.sessionTimeoutMs)],
      ...['--http-port', String(httpPort), '--grpc-port', String(grpcPort)],
    ];
    const gid = GID_BASE + i;
    const log = path.join(o.dir, `${id}.log`);
    const env = { ...o.replicaEnv, [RUN_MARKER]: o.dir };
    const proc = new ThalesProcess(id, args, log, env, gid);
    proc.start();
    return { id, httpPort, grpcPort, gid, process: proc, url: `http://127.0.0.1:${httpPort}` };
  });
}

async function makeAgents(
  o: ChaosClusterOptions,
  replicas: ChaosReplica[],
  ranges: { begin: number; end: number }[],
): Promise<ChaosAgent[]> {
  const httpPorts = await findFreePorts(o.agents);
  const schedulers = replicas.map((r) => `127.0.0.1:${r.grpcPort}`).join(',');
  return ranges.map((ports, i) => {
    // No '-' in agent ids: task ids (`<request>-<deploy>-<ms>-<instance>-<agent>`) stay parseable.
    const id = `agent${i + 1}`;
    const workDir = path.join(o.dir, id);
    const args = [
      'agent',
      ...['--work-dir', workDir, '--scheduler', schedulers, '--agent-id', id],
      ...['--host', '127.0.0.1', '--http-host', '127.0.0.1'],
      ...['--http-port', String(httpPorts[i])],
      ...['--cpus', String(o.agentCpus), '--memory-mb', String(o.agentMemoryMb)],
      ...['--ports', `${ports.begin}-${ports.end}`],
    ];
    const env = { [RUN_MARKER]: o.dir };
    const proc = new ThalesProcess(id, args, path.join(o.dir, `${id}.log`), env);
    return { id, workDir, httpUrl: `http://127.0.0.1:${httpPorts[i]}`, ports, process: proc };
  });
}

async function makeLbAgent(o: ChaosClusterOptions, zkConnect: string): Promise<ChaosLbAgent> {
  const [nginxPort, httpPort] = (await findFreePorts(2)) as [number, number];
  const id = 'lb1';
  const workDir = path.join(o.dir, 'lb-agent');
  const args = [
    'lb-agent',
    ...['--group', o.lbGroup, '--agent-id', id, '--zk', zkConnect, '--chroot', o.chroot],
    ...['--nginx-port', String(nginxPort), '--http-port', String(httpPort)],
    ...['--work-dir', workDir, '--drift-check-ms', '2000'],
  ];
  const proc = new ThalesProcess(id, args, path.join(o.dir, 'lb-agent.log'), {
    [RUN_MARKER]: o.dir,
  });
  return { id, workDir, nginxPort, httpPort, process: proc };
}

/**
 * `count` ranges of free ports below the ephemeral range (where replicas' and clients' ports
 * come from), at a random place so concurrent runs on this machine rarely meet; each port is
 * checked free by binding it.
 */
async function findAgentPortRanges(count: number): Promise<{ begin: number; end: number }[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * 180) * 100;
    const ranges = Array.from({ length: count }, (_, i) => ({
      begin: base + i * PORTS_PER_AGENT,
      end: base + (i + 1) * PORTS_PER_AGENT - 1,
    }));
    const ports = ranges.flatMap((r) =>
      Array.from({ length: r.end - r.begin + 1 }, (_, k) => r.begin + k),
    );
    const free = await Promise.all(ports.map(isPortFree));
    if (free.every(Boolean)) return ranges;
  }
  throw new Error('found no free port ranges for the agents');
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Stops the nginx master whose pid file is under `prefix` (it outlives a killed lb-agent):
 * SIGTERM, nginx's fast shutdown, which takes its workers down too (SIGKILL would orphan them).
 * Only if that pid still is an nginx of this prefix: a stale pid file may name anyone by now.
 */
export function killNginx(prefix: string): void {
  try {
    const pid = Number(readFileSync(path.join(prefix, 'nginx.pid'), 'utf8').trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (pid > 0 && cmdline.includes('nginx') && cmdline.includes(prefix)) {
      process.kill(pid, 'SIGTERM');
    }
  } catch {
    // not running
  }
}
