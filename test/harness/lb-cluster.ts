import { afterAll, afterEach, beforeAll } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ClusterStateView } from '../../src/api/index.js';
import { loadProto } from '../../src/runtime/index.js';
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

/** One lb-agent process with its nginx. */
export interface LbAgentHandle {
  id: string;
  group: string;
  nginxPort: number;
  httpPort: number;
  workDir: string;
  process: ThalesProcess;
  /** GET through this agent's nginx. */
  get(pathname: string): Promise<{ status: number; body: string }>;
  status(): Promise<
    | {
        version: string;
        nginxPid: number | null;
        generation: number;
        reloads: number;
        memberUpdates: number;
        services: Record<string, string>;
      }
    | undefined
  >;
  /** Kills the nginx master this agent started (by pid file). */
  killNginx(): void;
}

/** A ZooKeeper shared by the tests of one file. */
export async function startLbZooKeeper(): Promise<{ zk: ZooKeeperCluster; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-lb-'));
  // nginx workers run as nobody: they must be able to reach the (empty) document root.
  chmodSync(dir, 0o755);
  return { zk: await ZooKeeperCluster.start(dir, 1, 200), dir };
}

/** A test's own cluster: replicas in a fresh chroot, lb-agents, all cleaned up by `stop`. */
export class LbTestCluster {
  readonly agents: LbAgentHandle[] = [];
  replicas: LocalReplica[] = [];
  private readonly clients = new Map<string, LoadBalancerClient>();

  constructor(
    readonly zkConnect: string,
    readonly dir: string,
    readonly chroot = `/t-${Math.random().toString(36).slice(2, 10)}`,
  ) {}

  /**
   * Starts `count` scheduler replicas and waits for a leader with a term. The default session
   * timeout is long enough that a loaded CI machine does not change leaders by accident.
   */
  async startReplicas(count: number, sessionTimeoutMs = 8_000): Promise<void> {
    this.replicas = await startSchedulerReplicas({
      count,
      zkConnect: this.zkConnect,
      chroot: this.chroot,
      dir: path.join(this.dir, this.chroot.slice(1)),
      sessionTimeoutMs,
    });
    await this.leader();
  }

  /** The current leader (waits for one). */
  async leader(): Promise<LocalReplica> {
    return waitFor('an lb leader', async () => {
      for (const r of this.replicas) {
        if (!r.process.running) continue;
        const s = await fetchJson<ClusterStateView>(`${r.url}/api/state`, 500);
        if (s?.role === 'LEADER' && s.term > 0) return r;
      }
      return undefined;
    });
  }

  /** Starts an lb-agent for `group`, finding the leader from every replica or from ZooKeeper. */
  async startAgent(
    id: string,
    group: string,
    discovery: 'scheduler' | 'zk' = 'scheduler',
    extraArgs: string[] = [],
  ): Promise<LbAgentHandle> {
    const [nginxPort, httpPort] = (await findFreePorts(2)) as [number, number];
    const workDir = path.join(this.dir, this.chroot.slice(1), id);
    const scheduler = this.replicas.map((r) => `127.0.0.1:${r.grpcPort}`).join(',');
    const args = [
      'lb-agent',
      ...['--group', group, '--agent-id', id],
      ...(discovery === 'zk'
        ? ['--zk', this.zkConnect, '--chroot', this.chroot]
        : ['--scheduler', scheduler]),
      ...[
        '--nginx-port',
        String(nginxPort),
        '--http-port',
        String(httpPort),
        '--work-dir',
        workDir,
      ],
      ...['--drift-check-ms', '500'],
      ...extraArgs,
    ];
    const proc = new ThalesProcess(id, args, path.join(workDir, 'agent.log'));
    proc.start();
    const prefix = path.join(workDir, 'nginx');
    const handle: LbAgentHandle = {
      id,
      group,
      nginxPort,
      httpPort,
      workDir,
      process: proc,
      get: (p) => httpGet(nginxPort, p),
      status: () => fetchJson(`http://127.0.0.1:${httpPort}/status`, 1_000),
      killNginx: () => killNginxAt(prefix),
    };
    this.agents.push(handle);
    return handle;
  }

  /** Waits until every agent reports it has bootstrapped and joined its group. */
  async waitAgentsJoined(group: string, count: number): Promise<void> {
    await waitFor(`${count} lb-agents in ${group}`, async () => {
      const r = this.replicas.find((x) => x.process.running);
      const g = await fetchJson<{ agents?: string[] }>(`${r?.url}/api/lb/groups/${group}`, 500);
      return (g?.agents?.length ?? 0) >= count;
    });
  }

  /** A LoadBalancer gRPC client to a replica (the first running one by default). */
  client(replica?: LocalReplica): LoadBalancerClient {
    const r = replica ?? this.replicas.find((x) => x.process.running);
    if (!r) throw new Error('no running replica');
    const address = `127.0.0.1:${r.grpcPort}`;
    let c = this.clients.get(address);
    if (!c) {
      const proto = loadProto<ProtoGrpcType>('lb.proto');
      c = new proto.thales.v1.LoadBalancer(address, grpc.credentials.createInsecure());
      this.clients.set(address, c);
    }
    return c;
  }

  /** Stops every agent, nginx master, replica (ZooKeeper is the file's). */
  async stop(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    await Promise.all(this.agents.map((a) => a.process.stop(3_000)));
    for (const a of this.agents) a.killNginx();
    await Promise.all(this.replicas.map((r) => r.process.stop(3_000)));
  }
}

/** Calls a unary gRPC method as a promise. */
export function call<Req, Res>(
  client: LoadBalancerClient,
  method: string,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<
        string,
        (r: Req, cb: (e: grpc.ServiceError | null, v: Res) => void) => void
      >
    )[method];
    if (!fn) throw new Error(`no method ${method}`);
    fn.call(client, request, (err, value) => (err ? reject(err) : resolve(value)));
  });
}

/** A GET with a fresh connection (no keep-alive), so each request sees nginx's current config. */
export function httpGet(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: pathname, agent: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** Kills the nginx master whose pid file is under `prefix` (and so its workers). */
export function killNginxAt(prefix: string): void {
  try {
    const pid = Number(readFileSync(path.join(prefix, 'nginx.pid'), 'utf8').trim());
    if (pid > 0) process.kill(pid, 'SIGTERM');
  } catch {
    // not running
  }
}

/** HTTP backends answering `200 <name>` on every path. */
export async function startBackends(
  names: string[],
): Promise<{ name: string; address: string; close(): Promise<void> }[]> {
  const ports = await findFreePorts(names.length);
  return Promise.all(
    names.map(
      (name, i) =>
        new Promise<{ name: string; address: string; close(): Promise<void> }>((resolve) => {
          const server = http.createServer((_req, res) => res.end(name));
          // Longer than nginx's upstream keepalive_timeout (60 s), so nginx never reuses a
          // connection the backend is closing (a 502 race that is not what the tests test).
          server.keepAliveTimeout = 65_000;
          server.listen(ports[i], '127.0.0.1', () =>
            resolve({
              name,
              address: `127.0.0.1:${ports[i]}`,
              close: () =>
                new Promise<void>((r) => {
                  server.closeAllConnections();
                  server.close(() => r());
                }),
            }),
          );
        }),
    ),
  );
}

/** Removes a directory tree, ignoring errors. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** What {@link useLbFixture} gives a test file. */
export interface LbFixture {
  /** A new cluster on the file's ZooKeeper; stopped after the test (stopped agents resumed). */
  newCluster(): LbTestCluster;
  /** The `i`th backend as an upstream (b1, b2, b3). */
  up(i: number): { upstream: string };
  /** The backends' `host:port`s. */
  backendAddress(i: number): string;
}

/**
 * The per-file set-up every lb integration test shares: one ZooKeeper and three HTTP backends
 * for the file, one cluster per test, everything stopped even when a test fails. `env` is set
 * for the file's processes and removed afterwards.
 */
export function useLbFixture(env: Record<string, string> = {}): LbFixture {
  let zk: ZooKeeperCluster | undefined;
  let dir = '';
  let cluster: LbTestCluster | undefined;
  let backends: Awaited<ReturnType<typeof startBackends>> = [];
  beforeAll(async () => {
    Object.assign(process.env, env);
    ({ zk, dir } = await startLbZooKeeper());
    backends = await startBackends(['b1', 'b2', 'b3']);
  });
  afterAll(async () => {
    for (const key of Object.keys(env)) delete process.env[key];
    await Promise.all(backends.map((b) => b.close()));
    await zk?.stop();
    removeDir(dir);
  });
  afterEach(async () => {
    for (const a of cluster?.agents ?? []) a.process.signal('SIGCONT');
    await cluster?.stop();
    cluster = undefined;
  });
  const backendAddress = (i: number): string => backends[i]?.address as string;
  return {
    newCluster: () => (cluster = new LbTestCluster((zk as ZooKeeperCluster).connectString, dir)),
    up: (i) => ({ upstream: backendAddress(i) }),
    backendAddress,
  };
}
