/**
 * The checker: replays ZooKeeper's committed history once through the ZooKeeper-side passes,
 * then runs the history-, sample- and final-state checks, and compares the replayed final tree
 * with the live one (a checker whose replay disagrees with ZooKeeper proves nothing).
 */
import type { HeartbeatViolation, SplitBrainViolation } from '../../../harness/index.js';
import type { AgentSample, SandboxTask } from '../observe/agent-sampler.js';
import type { LbSample } from '../observe/lb-sampler.js';
import type { Op } from '../workload/history.js';
import type { TreeReplay } from '../zk/replay.js';
import type { Txn } from '../zk/txn-log.js';
import { checkAckedWrites } from './acked-writes.js';
import { ActiveTasksCheck } from './active-tasks.js';
import { checkAgentSamples } from './agent-samples.js';
import { checkCleanupSafety } from './cleanup-safety.js';
import { checkHostileInput } from './hostile-input.js';
import { checkLbRouting } from './lb-routing.js';
import { checkProcessCrashes, type ProcessCrash } from './process-crashes.js';
import { LeaderFencingCheck, type TermClaim } from './leader-fencing.js';
import { replayAll, type Violation } from './types.js';
import { WriteIndex } from './write-index.js';

export type { Violation } from './types.js';
export type { TermClaim } from './leader-fencing.js';
export type { ProcessCrash } from './process-crashes.js';

/** How the run ended up after healing: what the agents ran against what ZooKeeper held. */
export interface Convergence {
  converged: boolean;
  waitedMs: number;
  /** What was still wrong when the wait ended (empty when converged). */
  problems: string[];
}

/** Everything the run recorded. */
export interface CheckInput {
  chroot: string;
  txns: readonly Txn[];
  ops: readonly Op[];
  agentSamples: readonly AgentSample[];
  sandboxTasks: ReadonlyMap<string, SandboxTask>;
  lbSamples: readonly LbSample[];
  agents: readonly { id: string; cpus: number; memoryMb: number }[];
  splitBrain: readonly SplitBrainViolation[];
  heartbeats: readonly HeartbeatViolation[];
  convergence: Convergence;
  setupEndMs: number;
  orphanBoundMs: number;
  /** Persistent znodes (relative path → data) read from ZooKeeper at the end. */
  liveTree?: ReadonlyMap<string, Buffer>;
  lbServiceRequestId: string;
  /** Processes that exited without the nemesis or the final stop asking. */
  crashes: readonly ProcessCrash[];
}

/** What the checker found. */
export interface CheckResult {
  violations: Violation[];
  lostAckedWrites: number;
  terms: TermClaim[];
  /** Figures showing each check had something to check. */
  coverage: Record<string, number>;
  /** Disagreements between the replay and the live tree (must be empty). */
  replayMismatches: string[];
}

/** Runs every check. */
export function runChecks(input: CheckInput): CheckResult {
  const fencing = new LeaderFencingCheck();
  const tasks = new ActiveTasksCheck();
  const writes = new WriteIndex();
  const tree = replayAll(input.txns, input.chroot, [fencing, tasks, writes]);
  const acked = checkAckedWrites(input.ops, writes, tree);
  const routing = checkLbRouting({
    ops: input.ops,
    lbSamples: input.lbSamples,
    timelines: tasks.timelines,
    sandboxes: input.sandboxTasks,
    serviceRequestId: input.lbServiceRequestId,
  });
  const cleanup = checkCleanupSafety(input.ops, tasks.timelines);
  const hostile = checkHostileInput(input.ops, input.txns, input.chroot, input.setupEndMs);
  const agents = checkAgentSamples({
    samples: input.agentSamples,
    agents: input.agents,
    tasks: input.sandboxTasks,
    boundMs: input.orphanBoundMs,
  });
  const violations = [
    ...fencing.violations,
    ...liveLeaderViolations(input),
    ...acked.violations,
    ...tasks.violations,
    ...agents.violations,
    ...routing.violations,
    ...cleanup.violations,
    ...hostile.violations,
    ...checkProcessCrashes(input.crashes),
    ...input.convergence.problems.map((p): Violation => ({
      invariant: 'reconcile',
      check: 'not-converged',
      message: p,
    })),
  ].sort((a, b) => (a.at ?? 0) - (b.at ?? 0));
  return {
    violations,
    lostAckedWrites: acked.lost,
    terms: fencing.terms,
    coverage: {
      committedTxns: input.txns.length,
      fencedWrites: fencing.fencedWrites,
      terms: fencing.terms.length,
      maxActiveTasks: tasks.maxActive,
      tasksSeen: tasks.timelines.size,
      agentRounds: agents.rounds,
      maxRunningProcesses: agents.maxRunning,
      nginxRoutedAnswers: routing.routedAnswers,
      lbMemberSamples: routing.samplesWithMembers,
      cleanupRuns: cleanup.runs,
      cleanupDeleted: cleanup.deleted,
      hostileProbes: hostile.probes,
      processCrashes: input.crashes.length,
    },
    replayMismatches: input.liveTree ? compareTrees(tree, input.liveTree) : [],
  };
}

function liveLeaderViolations(input: CheckInput): Violation[] {
  return [
    ...input.splitBrain.map((v): Violation => ({
      invariant: '1',
      check: 'two-replicas-lead-one-term',
      at: v.at,
      message: `replicas ${v.replicaIds.join(' and ')} both reported LEADER in term ${v.term}`,
    })),
    ...input.heartbeats.map((v): Violation => ({
      invariant: '1',
      check: 'heartbeat-out-of-order',
      message: `${v.kind}: ${v.seen.leaderId} wrote term ${v.seen.term} after ${v.after.leaderId}'s ${v.after.term}`,
    })),
  ];
}

/** Persistent znodes whose presence or data differ between the replay and ZooKeeper. */
export function compareTrees(tree: TreeReplay, live: ReadonlyMap<string, Buffer>): string[] {
  const out: string[] = [];
  for (const [path, node] of tree.nodes) {
    if (node.ephemeralOwner) continue;
    const data = live.get(path);
    if (!data) out.push(`${path}: in the replay, not in ZooKeeper`);
    else if (!data.equals(node.data)) out.push(`${path}: data differs`);
  }
  for (const path of live.keys()) {
    if (!tree.nodes.has(path)) out.push(`${path}: in ZooKeeper, not in the replay`);
  }
  return out.slice(0, 50);
}
