/**
 * The nemesis: carries out the planned faults against the real processes, one at a time —
 * SIGKILL or SIGSTOP/SIGCONT of the scheduler leader, SIGKILL and restart of a ZooKeeper
 * member, an agent, the lb-agent, and a replica's ZooKeeper link cut with iptables — and
 * records when each began and was healed. `healAll()` undoes whatever is still in effect.
 */
import net from 'node:net';
import type { ZooKeeperServer } from '../../../../src/dev/index.js';
import type { ChaosCluster, ChaosReplica } from '../cluster/chaos-cluster.js';
import type { LinkCutter } from '../cluster/link-cut.js';
import type { FaultKind, PlannedFault } from './schedule.js';

/** A fault as it happened. */
export interface FaultRecord {
  kind: FaultKind;
  target: string;
  /** When the fault began, and when healing began and ended (ms since the epoch). */
  startMs: number;
  healMs: number;
  endMs: number;
  plannedMs: number;
  /** Why it did not run (no leader at the time, link cuts unavailable…). */
  skipped?: string;
}

/** The driver of a schedule. */
export class Nemesis {
  readonly records: FaultRecord[] = [];
  private stopping = false;

  constructor(
    private readonly cluster: ChaosCluster,
    /** Undefined when iptables cannot be used here (partition faults are then skipped). */
    private readonly cutter: LinkCutter | undefined,
    private readonly cutUnavailable: string | undefined,
    private readonly say: (line: string) => void,
  ) {}

  /** Asks the nemesis to stop after the fault in progress is healed. */
  stop(): void {
    this.stopping = true;
  }

  /** Runs `plan` from `startedAt` until it is done or the nemesis is stopped. */
  async run(plan: readonly PlannedFault[], startedAt: number): Promise<void> {
    for (const fault of plan) {
      const wait = startedAt + fault.atMs - Date.now();
      if (wait > 0) await this.pause(wait);
      if (this.stopping) return;
      const record = await this.inflict(fault);
      this.records.push(record);
      const took = ((record.endMs - record.startMs) / 1000).toFixed(1);
      this.say(
        record.skipped
          ? `nemesis: ${fault.kind} skipped (${record.skipped})`
          : `nemesis: ${fault.kind} ${record.target} (${took} s)`,
      );
    }
  }

  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopping && Date.now() < until) {
      await sleep(Math.min(200, until - Date.now()));
    }
  }

  private async inflict(f: PlannedFault): Promise<FaultRecord> {
    const startMs = Date.now();
    const rec = (target: string, healMs: number, skipped?: string): FaultRecord => ({
      kind: f.kind,
      target,
      startMs,
      healMs,
      endMs: Date.now(),
      plannedMs: f.durationMs,
      ...(skipped ? { skipped } : {}),
    });
    switch (f.kind) {
      case 'kill-leader':
      case 'pause-leader': {
        const leader = await this.findLeader();
        if (!leader) return rec('-', Date.now(), 'no leader agreed within 15 s');
        const healMs = await (f.kind === 'kill-leader'
          ? this.killAndRestart(leader.process, f.durationMs)
          : this.stopAndContinue(leader, f.durationMs));
        return rec(leader.id, healMs);
      }
      case 'kill-zk': {
        const server = await this.pickZk(f.pick);
        const healMs = await this.killZk(server, f.durationMs);
        return rec(`zk:${server.options.clientPort}`, healMs);
      }
      case 'kill-agent': {
        const agents = this.cluster.agents;
        const agent = agents[Math.floor(f.pick * agents.length)] ?? agents[0];
        if (!agent) return rec('-', Date.now(), 'no agents');
        return rec(agent.id, await this.killAndRestart(agent.process, f.durationMs));
      }
      case 'kill-lb':
        return rec(
          this.cluster.lb.id,
          await this.killAndRestart(this.cluster.lb.process, f.durationMs),
        );
      case 'partition-replica': {
        if (!this.cutter) return rec('-', Date.now(), this.cutUnavailable ?? 'no link cutter');
        const target = await this.pickReplica(f.pick);
        this.cutter.cut(target.gid);
        await sleep(f.durationMs);
        const healMs = Date.now();
        this.cutter.heal(target.gid);
        return rec(target.id, healMs);
      }
    }
  }

  private async findLeader(): Promise<ChaosReplica | undefined> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !this.stopping) {
      const leader = await this.cluster.leader();
      if (leader) return leader;
      await sleep(250);
    }
    return undefined;
  }

  /** The leader (pick < 0.6) or another replica, by `pick`. */
  private async pickReplica(pick: number): Promise<ChaosReplica> {
    const leader = await this.findLeader();
    const replicas = this.cluster.replicas;
    if (leader && pick < 0.6) return leader;
    const others = replicas.filter((r) => r !== leader);
    return others[Math.floor(((pick - 0.6) / 0.4) * others.length)] ?? others[0] ?? replicas[0]!;
  }

  /** ZooKeeper's own leader (pick < 0.5) or a follower, by `pick`. */
  private async pickZk(pick: number): Promise<ZooKeeperServer> {
    const servers = this.cluster.zk.servers;
    const modes = await Promise.all(servers.map((s) => zkMode(s.options.clientPort)));
    const leader = servers.find((_, i) => modes[i] === 'leader');
    if (leader && pick < 0.5) return leader;
    const others = servers.filter((s) => s !== leader);
    return others[Math.floor(pick * others.length)] ?? servers[0]!;
  }

  private async killAndRestart(
    proc: { signal(s: NodeJS.Signals): void; waitExit(): Promise<unknown>; start(): void },
    downMs: number,
  ): Promise<number> {
    proc.signal('SIGKILL');
    await proc.waitExit();
    await sleep(downMs);
    const healMs = Date.now();
    proc.start();
    return healMs;
  }

  private async stopAndContinue(replica: ChaosReplica, pausedMs: number): Promise<number> {
    replica.process.signal('SIGSTOP');
    await sleep(pausedMs);
    const healMs = Date.now();
    replica.process.signal('SIGCONT');
    return healMs;
  }

  private async killZk(server: ZooKeeperServer, downMs: number): Promise<number> {
    await server.stop('SIGKILL');
    await sleep(downMs);
    const healMs = Date.now();
    await server.start(60_000);
    return healMs;
  }

  /** Undoes every fault still in effect: links, paused and stopped processes. */
  async healAll(): Promise<void> {
    this.cutter?.healAll();
    const c = this.cluster;
    for (const p of [...c.replicas.map((r) => r.process), ...c.agents.map((a) => a.process)]) {
      p.signal('SIGCONT');
      if (!p.running) p.start();
    }
    if (!c.lb.process.running) c.lb.process.start();
    for (const s of c.zk.servers) if (!s.running) await s.start(60_000);
  }
}

/** `srvr`'s Mode line of a ZooKeeper server: leader, follower, or undefined if it is down. */
export function zkMode(port: number): Promise<'leader' | 'follower' | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1_000);
    socket.on('connect', () => socket.write('srvr'));
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => {
      const m = /Mode: (leader|follower)/.exec(answer);
      resolve(m ? (m[1] as 'leader' | 'follower') : undefined);
    });
    socket.on('error', () => resolve(undefined));
    socket.on('timeout', () => socket.destroy());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
