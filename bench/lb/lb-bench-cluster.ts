import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { loadProto } from '../../src/runtime/index.js';
import { Coordinator } from '../../src/coordination/index.js';
import {
  ThalesProcess,
  ZooKeeperCluster,
  findFreePorts,
  startSchedulerReplicas,
  type LocalReplica,
} from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import type { ProtoGrpcType } from '../../src/gen/lb.js';
import type { LoadBalancerClient } from '../../src/gen/thales/v1/LoadBalancer.js';
import type { LbBatchEvent, LbStageEvent } from '../../src/lb/lb-stage-events.js';
import { type RecordedEvent, STAGE_DIR_ENV } from './stage-recorder.js';

/** An lb-agent of the bench and how to read its counters. */
export interface BenchAgent {
  id: string;
  nginxPort: number;
  process: ThalesProcess;
  prefix: string;
  status(): Promise<{ reloads: number; generation: number; services: Record<string, string> }>;
}

/** What the recorder took in the replica and the lb-agents. */
export interface RecordedStages {
  /** The replica's stage marks, keyed by request id. */
  leader: LbStageEvent[];
  /** Each lb-agent's delta batches, by agent id. */
  agents: Record<string, LbBatchEvent[]>;
}

/** ZooKeeper, one replica, two lb-agents with their nginx, HTTP backends; `stop` ends all. */
export class LbBenchCluster {
  dir = mkdtempSync(path.join(os.tmpdir(), 'thales-lb-bench-'));
  zk: ZooKeeperCluster | undefined;
  replicas: LocalReplica[] = [];
  agents: BenchAgent[] = [];
  backends: http.Server[] = [];
  backendAddresses: string[] = [];
  client: LoadBalancerClient | undefined;
  /** A ZooKeeper session of the bench's own, to see requests finish without polling. */
  watcher: Coordinator | undefined;

  /** @param agentFlags extra `thales lb-agent` flags (e.g. `--static-upstreams`). */
  constructor(private readonly agentFlags: string[] = []) {}

  /** Where the stage recorder of every child process writes. */
  readonly stageDir = path.join(this.dir, 'stages');
  private readonly nodeOptions = process.env.NODE_OPTIONS;

  /**
   * Starts everything and waits until both agents joined `group`. Every Thales process is
   * started with the stage recorder preloaded (stage-recorder.ts): the product exposes only
   * its stage channels, the bench supplies what records them.
   */
  async start(group: string, backends: number): Promise<void> {
    chmodSync(this.dir, 0o755);
    mkdirSync(this.stageDir);
    process.env[STAGE_DIR_ENV] = this.stageDir;
    const recorder = new URL('./stage-recorder.js', import.meta.url).href;
    process.env.NODE_OPTIONS = [this.nodeOptions, `--import=${recorder}`].filter(Boolean).join(' ');
    this.zk = await ZooKeeperCluster.start(path.join(this.dir, 'zk'), 1, 200);
    this.replicas = await startSchedulerReplicas({
      count: 1,
      zkConnect: this.zk.connectString,
      chroot: '/bench',
      dir: this.dir,
      sessionTimeoutMs: 5_000,
    });
    const r = this.replicas[0] as LocalReplica;
    await waitFor('a leader', async () => {
      const s = await fetchJson<{ role?: string; term?: number }>(`${r.url}/api/state`, 500);
      return s?.role === 'LEADER' && (s.term ?? 0) > 0;
    });
    const ports = await findFreePorts(backends + 4);
    for (let i = 0; i < backends; i++) {
      const server = http.createServer((_q, res) => res.end(`b${i}`));
      await new Promise<void>((done) => server.listen(ports[i], '127.0.0.1', () => done()));
      this.backends.push(server);
      this.backendAddresses.push(`127.0.0.1:${ports[i]}`);
    }
    for (const [k, id] of ['lb-1', 'lb-2'].entries()) {
      this.agents.push(
        this.startAgent(
          id,
          group,
          r,
          ports[backends + 2 * k] as number,
          ports[backends + 2 * k + 1] as number,
        ),
      );
    }
    this.watcher = new Coordinator({
      connectString: this.zk.connectString,
      chroot: '/bench',
      sessionTimeoutMs: 10_000,
      logger: pino({ level: 'warn' }),
    });
    this.watcher.start();
    const proto = loadProto<ProtoGrpcType>('lb.proto');
    this.client = new proto.thales.v1.LoadBalancer(
      `127.0.0.1:${r.grpcPort}`,
      grpc.credentials.createInsecure(),
      {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      },
    );
    await waitFor(
      `agents in ${group}`,
      async () => {
        const g = await fetchJson<{ agents?: string[] }>(`${r.url}/api/lb/groups/${group}`, 500);
        return (g?.agents?.length ?? 0) === 2;
      },
      { timeoutMs: 60_000 },
    );
  }

  private startAgent(
    id: string,
    group: string,
    r: LocalReplica,
    nginxPort: number,
    httpPort: number,
  ): BenchAgent {
    const workDir = path.join(this.dir, id);
    const proc = new ThalesProcess(
      id,
      [
        'lb-agent',
        ...['--group', group, '--agent-id', id, '--scheduler', `127.0.0.1:${r.grpcPort}`],
        ...[
          '--nginx-port',
          String(nginxPort),
          '--http-port',
          String(httpPort),
          '--work-dir',
          workDir,
        ],
        ...this.agentFlags,
      ],
      path.join(workDir, 'agent.log'),
      { THALES_LOG_LEVEL: process.env.LB_AGENT_LOG_LEVEL ?? 'warn' },
    );
    proc.start();
    return {
      id,
      nginxPort,
      process: proc,
      prefix: path.join(workDir, 'nginx'),
      status: async () => {
        const s = await fetchJson<{
          reloads: number;
          generation: number;
          services: Record<string, string>;
        }>(`http://127.0.0.1:${httpPort}/status`, 5_000);
        if (!s) throw new Error(`${id}: no status`);
        return s;
      },
    };
  }

  /** The stage events recorded since `since` (wall-clock ms), from every process's file. */
  stages(since: number): RecordedStages {
    const out: RecordedStages = { leader: [], agents: {} };
    for (const file of readdirSync(this.stageDir)) {
      const lines = readFileSync(path.join(this.stageDir, file), 'utf8').split('\n');
      for (const line of lines) {
        if (!line) continue;
        const e = JSON.parse(line) as RecordedEvent;
        if (e.channel === 'stage' && e.at >= since) out.leader.push(e);
        else if (e.channel === 'batch' && e.start >= since) {
          (out.agents[e.agentId] ??= []).push(e);
        }
      }
    }
    return out;
  }

  /** Calls a unary method. */
  call<Res>(method: string, request: object): Promise<Res> {
    const c = this.client as unknown as Record<
      string,
      (r: object, cb: (e: Error | null, v: Res) => void) => void
    >;
    return new Promise((resolve, reject) => {
      c[method]?.call(this.client, request, (err, v) => (err ? reject(err) : resolve(v)));
    });
  }

  /** Resolves with a request's final state, woken by ZooKeeper watches (no polling). */
  async waitDone(requestId: string): Promise<string> {
    const zk = this.watcher as Coordinator;
    for (;;) {
      let fired!: () => void;
      const changed = new Promise<void>((r) => (fired = r));
      const node = await zk.get(`/lb/requests/${requestId}`, () => fired());
      const { state } = JSON.parse(node.data.toString()) as { state: string };
      if (state !== 'WAITING' && state !== 'CANCELING') return state;
      await changed;
    }
  }

  /** Stops every process (nginx masters by pid file), removes the directory. */
  async stop(): Promise<void> {
    this.client?.close();
    await this.watcher?.close();
    await Promise.all(this.agents.map((a) => a.process.stop(3_000)));
    for (const a of this.agents) {
      try {
        process.kill(Number(readFileSync(path.join(a.prefix, 'nginx.pid'), 'utf8')), 'SIGTERM');
      } catch {
        // not running
      }
    }
    await Promise.all(this.replicas.map((r) => r.process.stop(3_000)));
    await this.zk?.stop();
    for (const b of this.backends) b.close();
    if (this.nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = this.nodeOptions;
    delete process.env[STAGE_DIR_ENV];
    if (!process.env.LB_BENCH_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
