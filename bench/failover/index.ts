/**
 * Failover benchmark: how long a 3-replica cluster is without an established leader after
 * losing its leader, gracefully (SIGTERM), by crash (SIGKILL) and by a pause (SIGSTOP, the
 * process stays but stops answering); and how long until every agent and lb-agent streams to
 * the new leader (`agent_switch_*`).
 *
 * A sample runs from the signal to the moment the bench's own ZooKeeper watch sees the first
 * fenced `/leader/heartbeat` of the new term: the new leader has claimed its term and its
 * loops are on (the heartbeat is written at once on establishment). The agent switch runs
 * from the signal to the moment the last daemon was seen registered with (written by) the new
 * leader (bench-agents.ts says how). A killed replica is restarted after its sample, a paused
 * one resumed (it finds its session expired and follows); the next sample waits until all 3
 * are back in the latch and every daemon streams to the leader.
 *
 * Usage: npm run bench -- failover [--samples 20] [--session-timeout-ms 2000] [--tick-ms 200]
 *        [--agents 3] [--lb-agents 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { ClusterStateView } from '../../src/api/index.js';
import { Coordinator, watchNode, type ZNode } from '../../src/coordination/index.js';
import {
  ZooKeeperCluster,
  startSchedulerReplicas,
  type LocalReplica,
} from '../../src/dev/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import { percentile } from '../stats.js';
import {
  type BenchDaemon,
  DaemonWatch,
  type LeaderMark,
  startBenchDaemons,
  stopBenchDaemons,
} from './bench-agents.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '20' },
    'session-timeout-ms': { type: 'string', default: '2000' },
    'tick-ms': { type: 'string', default: '200' },
    agents: { type: 'string', default: '3' },
    'lb-agents': { type: 'string', default: '1' },
  },
});
const SAMPLES = Number(values.samples);
const SESSION_TIMEOUT_MS = Number(values['session-timeout-ms']);
const TICK_MS = Number(values['tick-ms']);
const AGENTS = Number(values.agents);
const LB_AGENTS = Number(values['lb-agents']);

type Kind = 'graceful' | 'crash' | 'pause';
const KINDS: readonly Kind[] = ['graceful', 'crash', 'pause'];
const SIGNAL: Record<Kind, NodeJS.Signals> = {
  graceful: 'SIGTERM',
  crash: 'SIGKILL',
  pause: 'SIGSTOP',
};

interface Sample {
  kind: Kind;
  /** Signal → first heartbeat of the new term seen by the bench's watch. */
  establishedMs: number;
  /** Signal → the new term seen in `/leader/term` (claimed, loops not yet on). */
  termMs: number;
  /** Signal → the heartbeat znode's server mtime (same host clock; no watch delay). */
  mtimeMs: number;
  /** Signal → every agent and lb-agent seen streaming to the new leader. */
  switchMs: number;
  /** The daemon seen last. */
  lastSwitched: string;
  from: string;
  to: string;
  term: number;
}

/** First sighting (bench clock) of each term in a znode holding `{term, …}`. */
class TermWatch {
  readonly seenAt = new Map<number, { at: number; mtime: number; leaderId: string }>();
  latest = 0;

  constructor(zk: Coordinator, path: string) {
    watchNode(zk, path, (node: ZNode | null) => {
      if (!node) return;
      const at = Date.now();
      const doc = JSON.parse(node.data.toString()) as { term: number; leaderId?: string };
      if (!this.seenAt.has(doc.term)) {
        this.seenAt.set(doc.term, { at, mtime: node.mtime, leaderId: doc.leaderId ?? '' });
      }
      this.latest = Math.max(this.latest, doc.term);
    });
  }
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function state(r: LocalReplica): Promise<ClusterStateView | undefined> {
  return fetchJson<ClusterStateView>(`${r.url}/api/state`, 1_000);
}

/** All replicas up, in the view, agreeing on one established leader; returns it. */
async function steadyLeader(replicas: LocalReplica[], heartbeat: TermWatch): Promise<LocalReplica> {
  return await waitFor(
    'a steady 3-replica cluster',
    async () => {
      const states = await Promise.all(replicas.map(state));
      const leader = states.find((s) => s?.role === 'LEADER');
      if (!leader || heartbeat.latest !== leader.term) return undefined;
      const agreed = states.every(
        (s) =>
          s?.view === 'FRESH' &&
          s.leader?.replicaId === leader.replicaId &&
          s.leader.term === leader.term &&
          s.replicas.length === replicas.length,
      );
      return agreed ? replicas.find((r) => r.id === leader.replicaId) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  );
}

/** The watches a sample reads. */
interface Watches {
  term: TermWatch;
  heartbeat: TermWatch;
  daemons: DaemonWatch;
}

/** The leader of `term` as the daemon watch tells it apart. */
async function leaderMark(w: Watches, term: number): Promise<LeaderMark> {
  return waitFor(`the latch and term znode of term ${term}`, async () => {
    const claimed = w.term.seenAt.get(term);
    const session = await w.daemons.leaderSession();
    return claimed && session ? { session, termMtime: claimed.mtime } : undefined;
  });
}

async function runSample(kind: Kind, replicas: LocalReplica[], w: Watches): Promise<Sample> {
  const leader = await steadyLeader(replicas, w.heartbeat);
  const oldTerm = w.heartbeat.latest;
  const before = await leaderMark(w, oldTerm);
  await waitFor('every agent streaming to the leader', () => w.daemons.allNowWith(before), {
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  const signalledAt = Date.now();
  leader.process.signal(SIGNAL[kind]);
  const seen = await waitFor(
    'an established new leader',
    () => {
      const next = [...w.heartbeat.seenAt].find(([t]) => t > oldTerm);
      return next ? { term: next[0], ...next[1] } : undefined;
    },
    { timeoutMs: SESSION_TIMEOUT_MS * 10, intervalMs: 1 },
  );
  const claimed = w.term.seenAt.get(seen.term);
  const after = await leaderMark(w, seen.term);
  const switched = await waitFor(
    'every agent streaming to the new leader',
    () => w.daemons.allWith(after, signalledAt),
    { timeoutMs: 60_000, intervalMs: 5 },
  );
  if (kind === 'pause') leader.process.signal('SIGCONT');
  else {
    await leader.process.waitExit();
    leader.process.start();
  }
  return {
    kind,
    establishedMs: seen.at - signalledAt,
    termMs: (claimed?.at ?? Number.NaN) - signalledAt,
    mtimeMs: seen.mtime - signalledAt,
    switchMs: switched.at - signalledAt,
    lastSwitched: switched.last,
    from: leader.id,
    to: seen.leaderId,
    term: seen.term,
  };
}

function summaryRow(kind: Kind, samples: Sample[]): string {
  const xs = samples.filter((s) => s.kind === kind);
  const col = (f: (s: Sample) => number, p: number) =>
    String(Math.round(percentile(xs.map(f), p))).padStart(7);
  return [
    kind.padEnd(9),
    String(xs.length).padStart(3),
    col((s) => s.establishedMs, 0),
    col((s) => s.establishedMs, 50),
    col((s) => s.establishedMs, 99),
    col((s) => s.establishedMs, 100),
    col((s) => s.termMs, 50),
    col((s) => s.mtimeMs, 50),
    col((s) => s.switchMs, 50),
    col((s) => s.switchMs, 99),
  ].join(' ');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-bench-failover-'));
  say(
    `failover bench: 3 replicas, session timeout ${SESSION_TIMEOUT_MS} ms, ZooKeeper tick ${TICK_MS} ms, ` +
      `${SAMPLES} graceful + ${SAMPLES} crash + ${SAMPLES} pause samples, ${AGENTS} agents and ` +
      `${LB_AGENTS} lb-agents; node ${process.version}, ${os.cpus().length} cores`,
  );
  const zkCluster = await ZooKeeperCluster.start(dir, 1, TICK_MS);
  const chroot = '/bench-failover';
  const replicas = await startSchedulerReplicas({
    count: 3,
    zkConnect: zkCluster.connectString,
    chroot,
    dir,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  });
  const zk = new Coordinator({
    connectString: zkCluster.connectString,
    chroot,
    sessionTimeoutMs: 10_000,
    logger: pino({ level: 'silent' }),
  });
  zk.start();
  const samples: Sample[] = [];
  let daemons: BenchDaemon[] = [];
  let watches: Watches | undefined;
  try {
    daemons = await startBenchDaemons({
      dir,
      zkConnect: zkCluster.connectString,
      chroot,
      agents: AGENTS,
      lbAgents: LB_AGENTS,
    });
    watches = {
      term: new TermWatch(zk, '/leader/term'),
      heartbeat: new TermWatch(zk, '/leader/heartbeat'),
      daemons: new DaemonWatch(zk, daemons),
    };
    for (const kind of KINDS) {
      for (let i = 1; i <= SAMPLES; i++) {
        const s = await runSample(kind, replicas, watches);
        samples.push(s);
        say(
          `${kind.padEnd(8)} ${String(i).padStart(2)}/${SAMPLES}  ${s.from} → ${s.to}  term ${s.term}  ` +
            `established ${s.establishedMs} ms  (term claimed ${s.termMs} ms, heartbeat mtime ${s.mtimeMs} ms)  ` +
            `agents switched ${s.switchMs} ms (last: ${s.lastSwitched})`,
        );
      }
    }
  } finally {
    watches?.daemons.stop();
    await stopBenchDaemons(daemons);
    await Promise.all(replicas.map((r) => r.process.stop()));
    await zk.close();
    await zkCluster.stop();
    if (process.env.FAILOVER_BENCH_KEEP) say(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  report(samples);
}

/** Prints the table, the goals and the JSON line. */
function report(samples: Sample[]): void {
  const ms = (kind: Kind, p: number, f: (s: Sample) => number = (s) => s.establishedMs) =>
    Math.round(percentile(samples.filter((s) => s.kind === kind).map(f), p));
  const switchMs = (kind: Kind, p: number) => ms(kind, p, (s) => s.switchMs);
  say('');
  say('signal → new leader established (ms); term/mtime columns are p50 of the other clocks;');
  say(
    `switch: signal → all ${AGENTS} agents and ${LB_AGENTS} lb-agents streaming to the new leader`,
  );
  say('kind        n     min     p50     p99     max  term50 mtime50 switch50 switch99');
  for (const kind of KINDS) say(summaryRow(kind, samples));
  const goals = {
    graceful: { p99: ms('graceful', 99), goal: 100 },
    crash: { p99: ms('crash', 99), goal: SESSION_TIMEOUT_MS + 300 },
    'agent switch (pause)': { p99: switchMs('pause', 99), goal: SESSION_TIMEOUT_MS + 1_000 },
  };
  for (const [kind, g] of Object.entries(goals)) {
    say(
      `goal ${kind}: p99 ${g.p99} ms ≤ ${g.goal} ms → ${g.p99 <= g.goal ? 'met' : 'MISSED'} ` +
        `(ratio ${(g.p99 / g.goal).toFixed(2)})`,
    );
  }
  say(
    JSON.stringify({
      bench: 'failover',
      session_timeout_ms: SESSION_TIMEOUT_MS,
      graceful_p50_ms: ms('graceful', 50),
      graceful_p99_ms: ms('graceful', 99),
      crash_p50_ms: ms('crash', 50),
      crash_p99_ms: ms('crash', 99),
      pause_p50_ms: ms('pause', 50),
      pause_p99_ms: ms('pause', 99),
      agent_switch_p50_ms: switchMs('pause', 50),
      agent_switch_p99_ms: switchMs('pause', 99),
      graceful_agent_switch_p99_ms: switchMs('graceful', 99),
      crash_agent_switch_p99_ms: switchMs('crash', 99),
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `failover bench failed: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
