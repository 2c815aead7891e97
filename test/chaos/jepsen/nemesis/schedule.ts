/**
 * The nemesis schedule, planned up front from the seed (pure): which faults, when, for how
 * long, and a number that picks the target among the candidates when the fault starts. Faults
 * run one at a time, so at most one ZooKeeper member is ever down (the ensemble keeps quorum)
 * and every fault is healed before the next begins.
 */
import type { Rng } from '../rng.js';

/** The faults the nemesis knows. */
export const FAULT_KINDS = [
  'kill-leader',
  'pause-leader',
  'kill-zk',
  'kill-agent',
  'kill-lb',
  'partition-replica',
] as const;
/** One of {@link FAULT_KINDS}. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One planned fault. */
export interface PlannedFault {
  /** When it starts, in ms after the chaos phase began (no earlier than the last one healed). */
  atMs: number;
  kind: FaultKind;
  /** How long the target stays down, paused or cut before it is healed. */
  durationMs: number;
  /** In [0, 1): picks the target among the candidates at the time (e.g. leader or follower). */
  pick: number;
}

/** What shapes a schedule. */
export interface ScheduleOptions {
  durationMs: number;
  kinds: readonly FaultKind[];
  /** Quiet time between two faults, [min, max] ms. */
  gapMs: readonly [number, number];
  sessionTimeoutMs: number;
  /** How long a killed agent stays down, [min, max] ms (past the lost grace: tasks are replaced). */
  agentDownMs: readonly [number, number];
  /** How much longer than the session timeout a paused leader sleeps, [min, max] ms. */
  pauseExtraMs: readonly [number, number];
  /** Relative weight of each kind (default 1 each; leader faults 2). */
  weights?: Partial<Record<FaultKind, number>>;
}

/** Parses a comma-separated list of fault kinds; throws naming an unknown one. */
export function parseFaultKinds(text: string): FaultKind[] {
  if (text === 'none') return [];
  if (text === 'all') return [...FAULT_KINDS];
  return text.split(',').map((k) => {
    const kind = k.trim();
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`--nemesis: unknown fault '${kind}' (known: ${FAULT_KINDS.join(', ')})`);
    }
    return kind as FaultKind;
  });
}

/** How long each kind lasts, drawn from `rng`. */
function drawDuration(kind: FaultKind, rng: Rng, o: ScheduleOptions): number {
  const t = o.sessionTimeoutMs;
  switch (kind) {
    case 'kill-leader':
      return rng.int(500, 4_000);
    case 'pause-leader':
      // Past the session timeout: ZooKeeper expires the leader's session while it sleeps.
      return t + rng.int(o.pauseExtraMs[0], o.pauseExtraMs[1]);
    case 'kill-zk':
      return rng.int(1_000, 6_000);
    case 'kill-agent':
      return rng.int(o.agentDownMs[0], o.agentDownMs[1]);
    case 'kill-lb':
      return rng.int(500, 5_000);
    case 'partition-replica':
      return rng.int(Math.round(t / 2), 2 * t);
  }
}

/** Plans faults until `durationMs`; the same seed and options always give the same plan. */
export function planSchedule(rng: Rng, o: ScheduleOptions): PlannedFault[] {
  if (o.kinds.length === 0) return [];
  const weights: Partial<Record<FaultKind, number>> = {};
  for (const k of o.kinds) {
    weights[k] = o.weights?.[k] ?? (k === 'kill-leader' || k === 'pause-leader' ? 2 : 1);
  }
  const plan: PlannedFault[] = [];
  let at = rng.int(o.gapMs[0], o.gapMs[1]);
  while (at < o.durationMs) {
    const kind = rng.weighted(weights);
    const durationMs = drawDuration(kind, rng, o);
    plan.push({ atMs: at, kind, durationMs, pick: rng.float() });
    at += durationMs + rng.int(o.gapMs[0], o.gapMs[1]);
  }
  return plan;
}
