/**
 * The fault-test harness: real ZooKeeper (standalone or a 3-node ensemble), real
 * `thales scheduler` processes, a unique chroot and temp dir per test, a background poller
 * that records any split brain, and cleanup of every process even when a test fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, onTestFinished, type TestContext } from 'vitest';
import type { ClusterStateView } from '../../src/api/index.js';
import { Coordinator } from '../../src/coordination/index.js';
import {
  ZooKeeperCluster,
  startSchedulerReplicas,
  type LocalReplica,
} from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { SplitBrainPoller } from './split-brain-poller.js';

export { fetchJson, waitFor };

/** A fresh temp directory, removed when the current test passes (kept for autopsy if not). */
export function makeTempDir(prefix = 'thales-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished((ctx) => {
    if (failed(ctx)) process.stderr.write(`[harness] test failed; files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A unique chroot, so tests sharing one ZooKeeper never see each other's znodes. */
export function uniqueChroot(): string {
  return `/t-${randomBytes(6).toString('hex')}`;
}

/**
 * One ZooKeeper per test file (JVM starts are the slow part): started in `beforeAll`,
 * stopped in `afterAll`. The returned getter throws if used outside a test.
 */
export function useZooKeeper(size = 1, tickMs = 200): () => ZooKeeperCluster {
  let zk: ZooKeeperCluster | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'thales-zk-'));
    zk = await ZooKeeperCluster.start(dir, size, tickMs);
  });
  afterAll(async () => {
    await zk?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!zk) throw new Error('ZooKeeper is not started (useZooKeeper outside a test?)');
    return zk;
  };
}

/** A Coordinator on `chroot`, connected and ready; closed when the current test ends. */
export async function connectCoordinator(
  connectString: string,
  chroot: string,
  sessionTimeoutMs = 4_000,
): Promise<Coordinator> {
  const zk = new Coordinator({
    connectString,
    chroot,
    sessionTimeoutMs,
    opTimeoutMs: 5_000,
    logger: pino({ level: 'silent' }),
  });
  onTestFinished(() => zk.close());
  const ready = new Promise<void>((resolve) => zk.once('session', () => resolve()));
  zk.start();
  await ready;
  return zk;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  replicas?: number;
  sessionTimeoutMs?: number;
  debugApi?: boolean;
}

/** An elected leader as every live replica agrees on it. */
export interface AgreedLeader {
  replicaId: string;
  term: number;
  replica: LocalReplica;
}

/** A running set of replicas on one chroot of a shared ZooKeeper. */
export class TestCluster {
  constructor(
    readonly zk: ZooKeeperCluster,
    readonly chroot: string,
    readonly dir: string,
    readonly replicas: LocalReplica[],
    readonly sessionTimeoutMs: number,
    readonly poller: SplitBrainPoller,
  ) {}

  /** Watches the leader's fenced heartbeat for writes of a deposed leader (set by startCluster). */
  heartbeats: HeartbeatMonitor | undefined;

  /**
   * Every invariant violation the background observers saw: two replicas reporting LEADER in
   * one term, and leader writes out of term order. Tests assert this is empty at the end.
   */
  invariantViolations(): unknown[] {
    return [...this.poller.violations, ...(this.heartbeats?.violations ?? [])];
  }

  /** The replica with this id. */
  replica(id: string): LocalReplica {
    const r = this.replicas.find((x) => x.id === id);
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  /** One replica's `/api/state`, or undefined if it does not answer. */
  state(r: LocalReplica, timeoutMs = 1_000): Promise<ClusterStateView | undefined> {
    return fetchJson<ClusterStateView>(`${r.url}/api/state`, timeoutMs);
  }

  /**
   * Waits until one replica reports LEADER in a term above `aboveTerm` and every replica in
   * `among` (default: every running replica) reports that same leader and term.
   */
  async waitForLeader(
    opts: { aboveTerm?: number; among?: LocalReplica[]; timeoutMs?: number } = {},
  ): Promise<AgreedLeader> {
    const aboveTerm = opts.aboveTerm ?? 0;
    return waitFor(
      `a leader above term ${aboveTerm} agreed by all`,
      async () => {
        const among = opts.among ?? this.replicas.filter((r) => r.process.running);
        const states = await Promise.all(among.map((r) => this.state(r)));
        if (states.some((s) => !s)) return undefined;
        const leaders = states.filter((s) => s?.role === 'LEADER');
        if (leaders.length !== 1) return undefined;
        const l = leaders[0] as ClusterStateView;
        if (l.term <= aboveTerm) return undefined;
        const agreed = states.every(
          (s) => s?.leader?.replicaId === l.replicaId && s.leader.term === l.term,
        );
        return agreed
          ? { replicaId: l.replicaId, term: l.term, replica: this.replica(l.replicaId) }
          : undefined;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000 },
    );
  }

  /** A Coordinator on this cluster's chroot (closed at the end of the test). */
  coordinator(): Promise<Coordinator> {
    return connectCoordinator(this.zk.connectString, this.chroot);
  }

  /** The last lines of a replica's log (for failure messages). */
  logTail(r: LocalReplica, lines = 30): string {
    try {
      return readFileSync(r.process.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops every replica (SIGCONT + SIGTERM, then SIGKILL) and the poller. */
  async stop(): Promise<void> {
    this.poller.stop();
    this.heartbeats?.stop();
    await Promise.all(this.replicas.map((r) => r.process.stop(3_000)));
  }
}

/**
 * Starts replicas on a unique chroot of `zk`, a split-brain poller over them, and registers
 * their cleanup with the current test. Waits until they have elected a leader.
 */
export async function startCluster(
  zk: ZooKeeperCluster,
  options: ClusterOptions = {},
): Promise<TestCluster> {
  const dir = makeTempDir();
  const chroot = uniqueChroot();
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 2_000;
  const replicas = await startSchedulerReplicas({
    count: options.replicas ?? 3,
    zkConnect: zk.connectString,
    chroot,
    dir,
    sessionTimeoutMs,
    debugApi: options.debugApi ?? false,
  });
  const poller = new SplitBrainPoller(replicas);
  const cluster = new TestCluster(zk, chroot, dir, replicas, sessionTimeoutMs, poller);
  // Registered after makeTempDir's hook: hooks run in reverse, so processes stop before rm.
  onTestFinished(() => cluster.stop());
  poller.start();
  cluster.heartbeats = new HeartbeatMonitor(await cluster.coordinator());
  await cluster.waitForLeader();
  return cluster;
}

function failed(ctx: TestContext): boolean {
  const state = ctx.task.result?.state;
  return state === 'fail';
}
