/**
 * Feasibility stages: can task t go on offer o right now? Each stage checks one rule and
 * answers 0 (pass) or the code of its named rejection reason. The pipeline runs them in the
 * order of FEASIBILITY_STAGES and stops at the first rejection, so a rejected pair is counted
 * once, under the cheapest rule that rules it out.
 */
import {
  CPUS,
  DISK,
  MEM,
  NO_LIMIT,
  PORTS,
  REASON_CODE,
  SLOTS,
  type EncodedSnapshot,
} from './compact-encoding.js';
import type { MatchState } from './match-state.js';

/** What a stage reads: the immutable snapshot and the cycle's state so far. */
export interface MatchContext {
  readonly snap: EncodedSnapshot;
  readonly state: MatchState;
}

/** One feasibility rule: 0 when task t may go on offer o, else a rejection reason code. */
export type FeasibilityStage = (c: MatchContext, t: number, o: number) => number;

/** Tolerance for sums of fractional cpus (0.1 + 0.2 must fit in 0.3). */
const EPSILON = 1e-9;

/** Frozen, decommissioning or dead agents take no new tasks. */
export const agentUsable: FeasibilityStage = (c, _t, o) =>
  c.snap.offerUsable[o] === 1 ? 0 : REASON_CODE.AGENT_NOT_USABLE;

function resourceStage(slot: number, reason: number): FeasibilityStage {
  return (c, t, o) =>
    c.snap.taskNeed[t * SLOTS + slot]! <= c.state.free[o * SLOTS + slot]! + EPSILON ? 0 : reason;
}

/** Enough free cpus. */
export const cpusFit = resourceStage(CPUS, REASON_CODE.INSUFFICIENT_CPUS);
/** Enough free memory. */
export const memoryFits = resourceStage(MEM, REASON_CODE.INSUFFICIENT_MEMORY);
/** Enough free disk. */
export const diskFits = resourceStage(DISK, REASON_CODE.INSUFFICIENT_DISK);
/** Enough free ports left in the offer's ranges. */
export const portsFit: FeasibilityStage = (c, t, o) =>
  c.snap.taskNeed[t * SLOTS + PORTS]! <= c.state.free[o * SLOTS + PORTS]!
    ? 0
    : REASON_CODE.INSUFFICIENT_PORTS;

/** The value of attribute `key` on offer o, or -1 when the agent does not have it. */
function attributeOf(snap: EncodedSnapshot, o: number, key: number): number {
  for (let j = snap.offerAttrStart[o]!; j < snap.offerAttrStart[o + 1]!; j++) {
    if (snap.offerAttrKey[j] === key) return snap.offerAttrValue[j]!;
  }
  return -1;
}

/** Every required attribute is present on the agent with the required value. */
export const requiredAttributesPresent: FeasibilityStage = ({ snap }, t, o) => {
  for (let j = snap.taskReqStart[t]!; j < snap.taskReqStart[t + 1]!; j++) {
    if (attributeOf(snap, o, snap.taskReqKey[j]!) !== snap.taskReqValue[j]) {
      return REASON_CODE.MISSING_REQUIRED_ATTRIBUTE;
    }
  }
  return 0;
};

/** For each restricted attribute the agent has, its value is one the task allows. */
export const attributesAllowed: FeasibilityStage = ({ snap }, t, o) => {
  for (let j = snap.taskAllowStart[t]!; j < snap.taskAllowStart[t + 1]!; j++) {
    const value = attributeOf(snap, o, snap.taskAllowKey[j]!);
    if (value < 0) continue;
    let allowed = false;
    for (let v = snap.taskAllowValueStart[j]!; v < snap.taskAllowValueStart[j + 1]!; v++) {
      if (snap.taskAllowValue[v] === value) allowed = true;
    }
    if (!allowed) return REASON_CODE.ATTRIBUTE_NOT_ALLOWED;
  }
  return 0;
};

/**
 * The placement's per-host cap: SEPARATE*, SPREAD_ALL_AGENTS (one per host for the deploy or
 * request) and OPTIMISTIC (an even share plus leniency). GREEDY has no host rule.
 */
export const hostRuleHolds: FeasibilityStage = ({ snap, state }, t, o) => {
  const scope = snap.taskHostScope[t]!;
  if (scope < 0) return 0;
  return state.onHost(scope, o) < snap.taskHostLimit[t]! ? 0 : snap.taskHostReason[t]!;
};

/** A rack-sensitive deploy keeps at most its share of instances on any one rack. */
export const rackShareHolds: FeasibilityStage = ({ snap, state }, t, o) => {
  const limit = snap.taskRackLimit[t]!;
  if (limit === NO_LIMIT) return 0;
  return state.onRack(snap.taskDeploy[t]!, o) < limit ? 0 : REASON_CODE.RACK_SATURATED;
};

/** The stages in the order they run: cheap, frequently failing resource checks first. */
export const FEASIBILITY_STAGES: readonly FeasibilityStage[] = [
  agentUsable,
  cpusFit,
  memoryFits,
  diskFits,
  portsFit,
  requiredAttributesPresent,
  attributesAllowed,
  hostRuleHolds,
  rackShareHolds,
];

/**
 * The code of the first stage of {@link FEASIBILITY_STAGES} rejecting task t on offer o, or 0
 * when every stage passes. Written out stage by stage rather than as a loop over the list:
 * that loop is one megamorphic call site V8 cannot inline, and this runs for every (task,
 * offer) pair the selector looks at (10^7 per large cycle) and for every proposal the pool's
 * verifier re-checks. A unit test holds it equal to the loop, and pins the stage count so a new
 * stage cannot be forgotten here.
 */
export function firstRejection(c: MatchContext, t: number, o: number): number {
  let r = agentUsable(c, t, o);
  if (r !== 0) return r;
  if ((r = cpusFit(c, t, o)) !== 0) return r;
  if ((r = memoryFits(c, t, o)) !== 0) return r;
  if ((r = diskFits(c, t, o)) !== 0) return r;
  if ((r = portsFit(c, t, o)) !== 0) return r;
  if ((r = requiredAttributesPresent(c, t, o)) !== 0) return r;
  if ((r = attributesAllowed(c, t, o)) !== 0) return r;
  if ((r = hostRuleHolds(c, t, o)) !== 0) return r;
  return rackShareHolds(c, t, o);
}

/**
 * Index of the first non-resource stage: passing all before it means "the resources fit".
 * Stages and REJECTION_REASONS are in the same order, so a reason code (index + 1) at most
 * FIRST_RULE_STAGE also means "rejected for resources (or an unusable agent)".
 */
export const FIRST_RULE_STAGE = 5;
