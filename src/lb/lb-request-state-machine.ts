import type {
  LbAgentResult,
  LbRequest,
  LbRequestRecord,
  LbRequestStateName,
  LbService,
  LbServiceRecord,
  LbUpstream,
} from './lb-model.js';
import { claimedPaths, nextUpstreams } from './lb-upstreams.js';

/**
 * The pure core of the load-balancer manager: what to do with a request given an immutable
 * snapshot, and how a round of agent answers ends. No I/O, no clock: the driver
 * (lb-manager.ts) feeds it snapshots and agent answers and carries out its decisions.
 */

/** What the planner sees. */
export interface LbSnapshot {
  /** Stored services (`/lb/services`). */
  services: ReadonlyMap<string, LbServiceRecord>;
  /** Services as requests in flight will leave them (their paths are already claimed). */
  inFlight: ReadonlyMap<string, LbService>;
  /** Groups that have or had lb-agents (`/lb/groups/<g>` exists). */
  knownGroups: ReadonlySet<string>;
  /** Agents connected to this leader that finished their bootstrap, by group. */
  agents: ReadonlyMap<string, readonly string[]>;
  /** True right after a failover, while agents may still be reconnecting. */
  inAgentGracePeriod: boolean;
}

/** One agent a plan pushes to: the service's new config, or its removal. */
export interface LbTarget {
  agentId: string;
  group: string;
  deleted: boolean;
}

/** The planner's decision for one request. */
export type LbPlan =
  | { kind: 'noop'; message: string }
  | { kind: 'fail'; message: string }
  | { kind: 'defer'; message: string }
  | {
      kind: 'apply';
      /** The service after the request; null for DELETE. */
      next: LbServiceRecord | null;
      previous: LbServiceRecord | null;
      targets: LbTarget[];
      /** Reload without changing the service (RELOAD). */
      reloadOnly: boolean;
    };

/** Plans one request against `snap`; `now` stamps the next service record. */
export function planLbRequest(request: LbRequest, snap: LbSnapshot, now: number): LbPlan {
  const id = request.service.serviceId;
  const previous = snap.services.get(id) ?? null;
  const service = request.upstreamUpdateOnly && previous ? previous.service : request.service;
  const unknown = service.groups.find((g) => !snap.knownGroups.has(g));
  if (unknown !== undefined) return { kind: 'noop', message: `unknown group '${unknown}'` };
  if (request.action !== 'DELETE') {
    const conflict = findPathConflict(service, snap);
    if (conflict) return { kind: 'noop', message: conflict };
  }
  if (request.action === 'DELETE' && !previous) {
    return { kind: 'noop', message: `service '${id}' does not exist` };
  }
  const groups = new Set([...service.groups, ...(previous?.service.groups ?? [])]);
  const targets = toTargets(
    groups,
    new Set(request.action === 'DELETE' ? [] : service.groups),
    snap,
  );
  if (targets.length === 0) {
    const message = `no lb-agent connected in groups ${[...groups].join(', ')}`;
    return snap.inAgentGracePeriod ? { kind: 'defer', message } : { kind: 'fail', message };
  }
  if (request.action === 'DELETE') {
    return { kind: 'apply', next: null, previous, targets, reloadOnly: false };
  }
  const upstreams: LbUpstream[] =
    request.action === 'RELOAD'
      ? (previous?.upstreams ?? [])
      : nextUpstreams(previous?.upstreams ?? [], request);
  const next: LbServiceRecord = {
    service,
    upstreams,
    version: (previous?.version ?? 0) + 1,
    lastRequestId: request.requestId,
    updatedAt: now,
  };
  return { kind: 'apply', next, previous, targets, reloadOnly: request.action === 'RELOAD' };
}

/** A path of `service` already held, in a shared group, by another service (stored or in flight). */
export function findPathConflict(service: LbService, snap: LbSnapshot): string | undefined {
  const mine = claimedPaths(service);
  const others: LbService[] = [
    ...[...snap.services.values()].map((s) => s.service),
    ...snap.inFlight.values(),
  ];
  for (const other of others) {
    if (other.serviceId === service.serviceId) continue;
    const shared = other.groups.filter((g) => service.groups.includes(g));
    if (shared.length === 0) continue;
    const theirs = new Set(claimedPaths(other));
    const taken = mine.find((p) => theirs.has(p));
    if (taken !== undefined) {
      return `path '${taken}' is held by service '${other.serviceId}' in group '${shared[0]}'`;
    }
  }
  return undefined;
}

function toTargets(groups: Set<string>, keep: Set<string>, snap: LbSnapshot): LbTarget[] {
  const targets: LbTarget[] = [];
  for (const group of [...groups].sort()) {
    for (const agentId of snap.agents.get(group) ?? []) {
      targets.push({ agentId, group, deleted: !keep.has(group) });
    }
  }
  return targets;
}

/** One round of pushes (apply or revert) and the agents' answers so far. */
export interface LbRound {
  phase: 'APPLY' | 'REVERT';
  agents: readonly LbAgentResult[];
}

/** Starts a round: every target PENDING (a revert keeps each agent's apply error). */
export function startRound(
  phase: LbRound['phase'],
  targets: readonly LbTarget[],
  prior: readonly LbAgentResult[] = [],
): LbRound {
  const errors = new Map(prior.map((a) => [a.agentId, a.error]));
  return {
    phase,
    agents: targets.map((t) => {
      const error = errors.get(t.agentId);
      return { agentId: t.agentId, group: t.group, status: 'PENDING', ...(error ? { error } : {}) };
    }),
  };
}

/** Records an agent's ACK (`ok`) or NACK with its error; unknown or settled agents are ignored. */
export function recordAnswer(
  round: LbRound,
  agentId: string,
  ok: boolean,
  error?: string,
): LbRound {
  return {
    ...round,
    agents: round.agents.map((a) => {
      if (a.agentId !== agentId || a.status !== 'PENDING') return a;
      if (round.phase === 'APPLY') {
        return ok ? { ...a, status: 'ACKED' } : { ...a, status: 'NACKED', error: error ?? 'NACK' };
      }
      return ok
        ? { ...a, status: 'REVERTED' }
        : { ...a, status: 'REVERT_FAILED', error: error ?? a.error ?? 'NACK' };
    }),
  };
}

/** Marks every agent still pending as timed out (or its revert as failed). */
export function recordTimeout(round: LbRound): LbRound {
  return {
    ...round,
    agents: round.agents.map((a) => {
      if (a.status !== 'PENDING') return a;
      return round.phase === 'APPLY'
        ? { ...a, status: 'TIMED_OUT', error: 'agent did not answer in time' }
        : { ...a, status: 'REVERT_FAILED', error: a.error ?? 'agent did not answer in time' };
    }),
  };
}

/** What a round's answers mean. */
export type LbRoundDecision = 'WAIT' | 'COMMIT' | 'REVERT' | 'FAIL';

/**
 * WAIT while anyone is pending; then an apply round where all acked COMMITs (unless the
 * request is being canceled: REVERT), any other apply round REVERTs, a revert round FAILs.
 */
export function decideRound(round: LbRound, canceling = false): LbRoundDecision {
  if (round.agents.some((a) => a.status === 'PENDING')) return 'WAIT';
  if (round.phase === 'REVERT') return 'FAIL';
  const allAcked = round.agents.every((a) => a.status === 'ACKED');
  return allAcked && !canceling ? 'COMMIT' : 'REVERT';
}

/** A one-line reason for a failed round, naming agents and their errors. */
export function describeFailure(round: LbRound): string {
  const bad = round.agents.filter((a) => a.status !== 'ACKED' && a.status !== 'REVERTED');
  const failed = bad.length > 0 ? bad : round.agents.filter((a) => a.error);
  return failed.map((a) => `${a.agentId}: ${a.status}${a.error ? ` (${a.error})` : ''}`).join('; ');
}

/** A request in a final state (step DONE) with its message. */
export function toDoneRecord(
  record: LbRequestRecord,
  state: LbRequestStateName,
  message: string,
  now: number,
): LbRequestRecord {
  return { ...record, state, step: 'DONE', message, updatedAt: now };
}
