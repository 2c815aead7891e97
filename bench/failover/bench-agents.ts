/**
 * The daemons of the failover bench: real `thales agent` and `thales lb-agent` processes that
 * find the leader through ZooKeeper (`--zk`), and a watch that says, from ZooKeeper alone,
 * when each of them is streaming to a given leader.
 *
 * - A task agent is registered with a leader when `/agents/<id>` has a `registeredAt` (the
 *   leader's clock, same host) at or after that leader claimed its term: only the current
 *   leader can write it (fenced), on every registration, before answering Registered.
 * - An lb-agent has joined a leader when `/lb/groups/<g>/agents/<id>` exists and is owned by
 *   that leader's session (the leader creates it, ephemeral, once the agent bootstrapped).
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Coordinator,
  type Unwatch,
  type ZNode,
  decodeJson,
  latchSequence,
  watchNode,
} from '../../src/coordination/index.js';
import { ThalesProcess, findFreePortBlock, findFreePorts } from '../../src/dev/index.js';

/** The lb-agents' group. */
export const BENCH_GROUP = 'bench';

/** One daemon of the bench. */
export interface BenchDaemon {
  id: string;
  kind: 'agent' | 'lb-agent';
  process: ThalesProcess;
  /** The znode whose writes tell which leader it streams to. */
  znode: string;
  /** Where it keeps its files (a task agent: its tasks' sandboxes). */
  workDir: string;
  /** nginx prefix (lb-agents), to stop the master at the end. */
  nginxPrefix?: string;
  /** The port its nginx listens on (lb-agents). */
  nginxPort?: number;
}

/** What each task agent offers (the failover bench's defaults: 1 cpu, 512 MB, 100 ports). */
export interface BenchAgentResources {
  cpus: number;
  memoryMb: number;
  /** Task ports per agent, from a free block: fixed ranges collide across concurrent runs. */
  ports: number;
}

const DEFAULT_AGENT_RESOURCES: BenchAgentResources = { cpus: 1, memoryMb: 512, ports: 100 };

/** Starts `agents` task agents and `lbAgents` lb-agents on `chroot`, all with `--zk`. */
export async function startBenchDaemons(o: {
  dir: string;
  zkConnect: string;
  chroot: string;
  agents: number;
  lbAgents: number;
  agentResources?: BenchAgentResources;
}): Promise<BenchDaemon[]> {
  const res = o.agentResources ?? DEFAULT_AGENT_RESOURCES;
  // nginx workers run as nobody: they must be able to traverse the work directories.
  chmodSync(o.dir, 0o755);
  const ports = await findFreePorts(o.agents + 2 * o.lbAgents);
  const zk = ['--zk', o.zkConnect, '--chroot', o.chroot];
  const daemons: BenchDaemon[] = [];
  for (let i = 0; i < o.agents; i++) {
    const id = `bench-agent-${i + 1}`;
    const workDir = path.join(o.dir, id);
    const begin = await findFreePortBlock(res.ports);
    const args = [
      ...['agent', '--work-dir', workDir, ...zk, '--agent-id', id, '--host', '127.0.0.1'],
      ...['--http-host', '127.0.0.1', '--http-port', String(ports[i])],
      ...['--cpus', String(res.cpus), '--memory-mb', String(res.memoryMb)],
      ...['--ports', `${begin}-${begin + res.ports - 1}`],
    ];
    daemons.push({
      id,
      kind: 'agent',
      znode: `/agents/${id}`,
      workDir,
      process: spawn(id, args, workDir),
    });
  }
  for (let i = 0; i < o.lbAgents; i++) {
    const id = `bench-lb-${i + 1}`;
    const workDir = path.join(o.dir, id);
    mkdirSync(workDir, { recursive: true });
    const [nginxPort, httpPort] = [ports[o.agents + 2 * i], ports[o.agents + 2 * i + 1]];
    const args = [
      ...['lb-agent', '--group', BENCH_GROUP, '--agent-id', id, ...zk],
      ...['--nginx-port', String(nginxPort), '--http-port', String(httpPort)],
      ...['--work-dir', workDir],
    ];
    daemons.push({
      id,
      kind: 'lb-agent',
      znode: `/lb/groups/${BENCH_GROUP}/agents/${id}`,
      workDir,
      process: spawn(id, args, workDir),
      nginxPrefix: path.join(workDir, 'nginx'),
      nginxPort: nginxPort as number,
    });
  }
  return daemons;
}

function spawn(id: string, args: string[], workDir: string): ThalesProcess {
  const proc = new ThalesProcess(id, args, path.join(workDir, `${id}.log`), {
    THALES_LOG_LEVEL: process.env.BENCH_AGENT_LOG_LEVEL ?? 'info',
  });
  proc.start();
  return proc;
}

/** Stops the daemons and the nginx masters of the lb-agents. */
export async function stopBenchDaemons(daemons: BenchDaemon[]): Promise<void> {
  await Promise.all(daemons.map((d) => d.process.stop(3_000)));
  for (const d of daemons) {
    if (!d.nginxPrefix) continue;
    try {
      process.kill(Number(readFileSync(path.join(d.nginxPrefix, 'nginx.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // not running
    }
  }
}

/** A leader as the watch tells them apart: its session, and when it claimed its term. */
export interface LeaderMark {
  /** Session id (hex) of its latch znode. */
  session: string;
  /**
   * Server mtime (ms) of `/leader/term` when it claimed its term: a leader accepts agents
   * only once it has its term, and its predecessor could not write after that.
   */
  termMtime: number;
}

interface Sighting {
  at: number;
  node: ZNode | null;
}

/** Sightings (bench clock) of every daemon's znode, kept from the bench's own session. */
export class DaemonWatch {
  private readonly sightings = new Map<string, Sighting[]>();
  private readonly unwatch: Unwatch[] = [];

  constructor(
    private readonly zk: Coordinator,
    private readonly daemons: readonly BenchDaemon[],
  ) {
    for (const d of daemons) {
      const list: Sighting[] = [];
      this.sightings.set(d.id, list);
      this.unwatch.push(watchNode(zk, d.znode, (node) => list.push({ at: Date.now(), node })));
    }
  }

  /** The current leader's session, from the lowest latch znode (undefined if none). */
  async leaderSession(): Promise<string | undefined> {
    const names = (await this.zk.children('/leader'))
      .filter((n) => Number.isFinite(latchSequence(n)))
      .sort((a, b) => latchSequence(a) - latchSequence(b));
    const first = names[0];
    return first ? (await this.zk.getOrNull(`/leader/${first}`))?.ephemeralOwner : undefined;
  }

  /**
   * The first time (bench clock) at or after `since` when every daemon was seen streaming to
   * `leader`, and the daemon seen last; undefined if one has not been yet.
   */
  allWith(leader: LeaderMark, since: number): { at: number; last: string } | undefined {
    let latest = { at: since, last: '' };
    for (const d of this.daemons) {
      const hit = (this.sightings.get(d.id) ?? []).find(
        (s) => s.at >= since && this.isWith(d, s.node, leader),
      );
      if (!hit) return undefined;
      if (hit.at >= latest.at) latest = { at: hit.at, last: d.id };
    }
    return latest;
  }

  /** Whether every daemon's latest sighting shows it streaming to `leader`. */
  allNowWith(leader: LeaderMark): boolean {
    return this.daemons.every((d) =>
      this.isWith(d, this.sightings.get(d.id)?.at(-1)?.node, leader),
    );
  }

  private isWith(d: BenchDaemon, node: ZNode | null | undefined, leader: LeaderMark): boolean {
    if (!node) return false;
    if (d.kind === 'lb-agent') return node.ephemeralOwner === leader.session;
    const { registeredAt } = decodeJson<{ registeredAt: number }>(node.data, d.znode);
    return registeredAt >= leader.termMtime;
  }

  stop(): void {
    for (const u of this.unwatch) u();
  }
}
