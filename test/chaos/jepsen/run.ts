/**
 * One chaos run, end to end: start the cluster, set up the workload, run the clients and the
 * nemesis for the given minutes, heal, wait for the cluster to settle, stop everything, read
 * ZooKeeper's transaction logs, check, report. Whatever happens, every process it started is
 * stopped and every iptables rule it added is removed.
 */
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Coordinator } from '../../../src/coordination/index.js';
import { HeartbeatMonitor, SplitBrainPoller } from '../../harness/index.js';
import { type CheckResult, type Convergence, runChecks } from './check/index.js';
import { ChaosCluster } from './cluster/chaos-cluster.js';
import { watchCrashes } from './cluster/crash-watch.js';
import { LinkCutter, linkCutUnavailable } from './cluster/link-cut.js';
import { sweepRunProcesses } from './cluster/process-sweep.js';
import { awaitConvergence, unsettled } from './convergence.js';
import { AgentSampler } from './observe/agent-sampler.js';
import { LbSampler } from './observe/lb-sampler.js';
import type { ChaosOptions } from './options.js';
import { type PhaseResult, runChaosPhase } from './phase.js';
import { type ChaosReport, type ChaosSummary, tallyOps, writeReport } from './report.js';
import { WEB_SERVICE } from './workload/spec.js';
import { mergeMemberLogs, readMemberLog } from './zk/txn-history.js';
import { connectReader, dumpTree } from './zk/zk-reader.js';

/** What a run returns. */
export interface ChaosRunResult {
  summary: ChaosSummary;
  report: ChaosReport;
  checks: CheckResult;
  reportPath: string;
  dir: string;
}

const CHROOT = '/chaos';
const AGENT = { cpus: 2, memoryMb: 1_024 };

/** The observers that run beside the workload. */
interface Observers {
  reader: Coordinator;
  poller: SplitBrainPoller;
  heartbeats: HeartbeatMonitor;
  agents: AgentSampler;
  lb: LbSampler;
}

/** Runs one chaos run. */
export async function runChaos(
  o: ChaosOptions,
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<ChaosRunResult> {
  const t0 = Date.now();
  const say = (line: string): void =>
    print(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const dir = o.dir ?? mkdtempSync(path.join(os.tmpdir(), `thales-chaos-${o.seed}-`));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // nginx's workers (nobody) must traverse it
  const startedAt = new Date();
  const notes: string[] = [];
  const cutUnavailable = o.nemesis.includes('partition-replica') ? linkCutUnavailable() : undefined;
  if (cutUnavailable) notes.push(`partition-replica faults skipped: ${cutUnavailable}`);
  let cutter: LinkCutter | undefined;
  const healLinks = (): void => cutter?.healAll();
  process.once('exit', healLinks);
  // Ctrl-C, even during start-up: every process of the run goes, tasks and nginx included.
  const onSignal = (): void => {
    healLinks();
    sweepRunProcesses(dir);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cluster = await ChaosCluster.start(clusterOptions(o, dir), say).catch((err: unknown) => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    throw err;
  });
  if (!cutUnavailable)
    cutter = new LinkCutter(cluster.zkClientPorts, `thales-chaos-${process.pid}`);
  // From here on, an exit the nemesis did not cause is a crash (start-up failures throw).
  const watch = watchCrashes(cluster, say);
  let observers: Observers | undefined;
  try {
    observers = await startObservers(cluster);
    const obs = observers;
    const phase = await runChaosPhase(o, dir, cluster, cutter, cutUnavailable, say);
    const convergence = await settle(cluster, obs, o, say);
    const { liveTree } = await stopAndDump(cluster, obs);
    observers = undefined;
    say('reading the ensemble’s transaction logs and checking');
    const logs = cluster.zkDataDirs.map(readMemberLog);
    const history = mergeMemberLogs(logs, cluster.zkDataDirs);
    if (history.uncommitted.length > 0) {
      notes.push(
        `${history.uncommitted.length} logged proposals never reached a quorum (left out)`,
      );
    }
    const checks = runChecks({
      chroot: CHROOT,
      txns: history.committed,
      ops: phase.history.ops,
      agentSamples: obs.agents.samples,
      sandboxTasks: obs.agents.tasks,
      lbSamples: obs.lb.samples,
      agents: cluster.agents.map((a) => ({ id: a.id, ...AGENT })),
      splitBrain: obs.poller.violations,
      heartbeats: obs.heartbeats.violations,
      convergence,
      setupEndMs: phase.setupEndMs,
      orphanBoundMs: o.orphanBoundMs,
      liveTree,
      lbServiceRequestId: WEB_SERVICE.serviceId,
      crashes: watch.crashes,
    });
    const samples = {
      'agent-samples': obs.agents.samples,
      'sandbox-tasks': [...obs.agents.tasks.values()],
      'lb-samples': obs.lb.samples,
    };
    return finish(o, dir, startedAt, phase, convergence, checks, notes, say, samples);
  } finally {
    if (observers) stopObservers(observers);
    healLinks();
    process.removeListener('exit', healLinks);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cluster.stop();
  }
}

function clusterOptions(o: ChaosOptions, dir: string) {
  return {
    dir,
    chroot: CHROOT,
    replicas: 3,
    agents: 3,
    sessionTimeoutMs: o.sessionTimeoutMs,
    zkTickMs: 200,
    agentCpus: AGENT.cpus,
    agentMemoryMb: AGENT.memoryMb,
    lbGroup: WEB_SERVICE.groups[0] as string,
    replicaEnv: {
      // By default short enough that a killed agent's tasks are replaced within a run, long
      // enough that agents find a new leader first.
      THALES_AGENT_RECONNECT_GRACE_MS: String(o.agentReconnectGraceMs),
      THALES_AGENT_LOST_MS: String(o.agentLostMs),
      THALES_AGENT_HEARTBEAT_TIMEOUT_MS: '5000',
    },
  };
}

async function startObservers(cluster: ChaosCluster): Promise<Observers> {
  const reader = await connectReader(cluster.zk.connectString, CHROOT);
  const poller = new SplitBrainPoller(cluster.replicas, 250);
  poller.start();
  const heartbeats = new HeartbeatMonitor(reader);
  const agents = new AgentSampler(
    cluster.agents.map((a) => ({ ...a, isRunning: () => a.process.running })),
  );
  agents.start();
  const lb = new LbSampler(cluster.lb.workDir, WEB_SERVICE.serviceId);
  lb.start();
  return { reader, poller, heartbeats, agents, lb };
}

function stopObservers(obs: Observers): void {
  obs.poller.stop();
  obs.heartbeats.stop();
  obs.lb.stop();
  void obs.agents.stop();
  void obs.reader.close();
}

async function settle(
  cluster: ChaosCluster,
  obs: Observers,
  o: ChaosOptions,
  say: (l: string) => void,
): Promise<Convergence> {
  say(`healed; waiting up to ${o.convergeMs / 1000} s for the cluster to settle`);
  const c = await awaitConvergence(
    () => unsettled(cluster, obs.reader, obs.agents, obs.lb, WEB_SERVICE.serviceId),
    o.convergeMs,
  );
  say(
    c.converged
      ? `settled in ${(c.waitedMs / 1000).toFixed(1)} s`
      : `did not settle: ${c.problems.slice(0, 5).join('; ')}`,
  );
  return c;
}

async function stopAndDump(
  cluster: ChaosCluster,
  obs: Observers,
): Promise<{ liveTree: Map<string, Buffer> }> {
  obs.poller.stop();
  obs.heartbeats.stop();
  obs.lb.stop();
  await obs.agents.stop();
  await cluster.stopDaemons();
  const liveTree = await dumpTree(obs.reader);
  await obs.reader.close();
  await cluster.stopZooKeeper();
  return { liveTree };
}

function finish(
  o: ChaosOptions,
  dir: string,
  startedAt: Date,
  run: PhaseResult,
  convergence: Convergence,
  checks: CheckResult,
  notes: string[],
  say: (line: string) => void,
  samples: Record<string, readonly unknown[]>,
): ChaosRunResult {
  const faults = run.nemesis.records.filter((f) => !f.skipped);
  const summary: ChaosSummary = {
    chaos: o.name,
    seed: o.seed,
    minutes: o.minutes,
    operations: run.history.ops.length,
    faults: faults.length,
    leader_changes: Math.max(0, checks.terms.length - 1),
    violations: checks.violations.length,
    lost_acked_writes: checks.lostAckedWrites,
  };
  const byInvariant: Record<string, number> = {};
  for (const v of checks.violations) byInvariant[v.invariant] = (byInvariant[v.invariant] ?? 0) + 1;
  const faultsByKind: Record<string, number> = {};
  for (const f of faults) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
  const report: ChaosReport = {
    summary,
    startedAt: startedAt.toISOString(),
    dir,
    options: o,
    ...tallyOps(run.history.ops),
    faults: run.nemesis.records,
    faultsByKind,
    leaders: checks.terms,
    violationsByInvariant: byInvariant,
    violations: checks.violations,
    coverage: checks.coverage,
    convergence,
    replayMismatches: checks.replayMismatches,
    notes,
  };
  const reportPath = writeReport(dir, report, run.history.ops, samples);
  say(`report: ${reportPath}`);
  return { summary, report, checks, reportPath, dir };
}
