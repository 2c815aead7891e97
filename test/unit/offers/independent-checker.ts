/**
 * An independent re-check of a matcher result, written from the documented semantics
 * (docs/offers.md), sharing no code with src/offers: plain objects and loops, no encoding.
 * It recomputes the final state of the cycle from the input plus the assignments and checks
 * every rule in it. Rules are checked on the final state, which is exact when every task of a
 * deploy (resp. request) shares its placement and rack sensitivity, as the generators ensure.
 */
import type { MatchInput, MatchResult, Offer, PendingTask } from '../../../src/offers/index.js';

const EPS = 1e-9;

const keyOf = (k: PendingTask['key']): string =>
  `${k.requestId}\u0000${k.deployId}\u0000${k.instanceNo}`;
const deployOf = (requestId: string, deployId: string): string => `${requestId}\u0000${deployId}`;

/** Final per-agent usage and per-host / per-rack task counts after the cycle. */
export interface FinalState {
  free: Map<string, { cpus: number; memoryMb: number; diskMb: number; ports: Set<number> }>;
  deployOnHost: Map<string, number>;
  requestOnHost: Map<string, number>;
  deployOnRack: Map<string, number>;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function usable(o: Offer): boolean {
  return (o.state ?? 'ACTIVE') === 'ACTIVE';
}

// Caps depend only on the input: computed once per input and key (the checker is O(n) each).
const capCache = new WeakMap<MatchInput, Map<string, number>>();
function cached(input: MatchInput, key: string, compute: () => number): number {
  let m = capCache.get(input);
  if (!m) {
    m = new Map();
    capCache.set(input, m);
  }
  let v = m.get(key);
  if (v === undefined) {
    v = compute();
    m.set(key, v);
  }
  return v;
}

/** The per-host cap of an OPTIMISTIC request, as documented. */
export function optimisticCap(input: MatchInput, requestId: string, leniency: number): number {
  return cached(input, `o${requestId}\u0000${leniency}`, () =>
    computeOptimisticCap(input, requestId, leniency),
  );
}

function computeOptimisticCap(input: MatchInput, requestId: string, leniency: number): number {
  const hosts = new Set(input.offers.filter(usable).map((o) => o.host)).size || 1;
  let total = input.tasks.filter((t) => t.key.requestId === requestId).length;
  for (const o of input.offers)
    total += (o.runningTasks ?? []).filter((r) => r.requestId === requestId).length;
  const share = Math.ceil(total / hosts);
  return Math.max(share, Math.floor(share * (1 + leniency)));
}

/** The per-rack cap of a rack-sensitive task, as documented. */
export function rackCap(input: MatchInput, task: PendingTask): number {
  const key = `r${deployOf(task.key.requestId, task.key.deployId)}\u0000${task.instances ?? ''}`;
  return cached(input, key, () => computeRackCap(input, task));
}

function computeRackCap(input: MatchInput, task: PendingTask): number {
  const racks = new Set(input.offers.filter(usable).map((o) => o.rack)).size || 1;
  let instances = task.instances;
  if (instances === undefined) {
    const d = deployOf(task.key.requestId, task.key.deployId);
    instances = input.tasks.filter((t) => deployOf(t.key.requestId, t.key.deployId) === d).length;
    for (const o of input.offers) {
      instances += (o.runningTasks ?? []).filter(
        (r) => deployOf(r.requestId, r.deployId) === d,
      ).length;
    }
  }
  return Math.ceil(instances / racks);
}

function portsOf(o: Offer): Set<number> {
  const s = new Set<number>();
  for (const r of o.ports ?? []) for (let p = r.begin; p <= r.end; p++) s.add(p);
  return s;
}

/** Why task t may not go on offer o in state s (undefined when it may); rules as documented. */
export function whyNot(
  input: MatchInput,
  s: FinalState,
  t: PendingTask,
  o: Offer,
  leniency: number,
): string | undefined {
  if (!usable(o)) return 'AGENT_NOT_USABLE';
  const f = s.free.get(o.agentId)!;
  if (t.resources.cpus > f.cpus + EPS) return 'INSUFFICIENT_CPUS';
  if (t.resources.memoryMb > f.memoryMb + EPS) return 'INSUFFICIENT_MEMORY';
  if (t.resources.diskMb > f.diskMb + EPS) return 'INSUFFICIENT_DISK';
  if (t.resources.numPorts > f.ports.size) return 'INSUFFICIENT_PORTS';
  const attrs = o.attributes ?? {};
  for (const [k, v] of Object.entries(t.requiredAttributes ?? {})) {
    if (attrs[k] !== v) return 'MISSING_REQUIRED_ATTRIBUTE';
  }
  for (const [k, values] of Object.entries(t.allowedAttributes ?? {})) {
    if (k in attrs && !values.includes(attrs[k]!)) return 'ATTRIBUTE_NOT_ALLOWED';
  }
  const d = deployOf(t.key.requestId, t.key.deployId);
  const onHostDeploy = s.deployOnHost.get(`${d}@${o.host}`) ?? 0;
  const onHostRequest = s.requestOnHost.get(`${t.key.requestId}@${o.host}`) ?? 0;
  switch (t.placement ?? 'GREEDY') {
    case 'SEPARATE':
    case 'SEPARATE_BY_DEPLOY':
      if (onHostDeploy > 0) return 'SEPARATE_BY_DEPLOY';
      break;
    case 'SPREAD_ALL_AGENTS':
      if (onHostDeploy > 0) return 'SPREAD_ALL_AGENTS';
      break;
    case 'SEPARATE_BY_REQUEST':
      if (onHostRequest > 0) return 'SEPARATE_BY_REQUEST';
      break;
    case 'OPTIMISTIC':
      if (onHostRequest >= optimisticCap(input, t.key.requestId, leniency))
        return 'OPTIMISTIC_HOST_SATURATED';
      break;
    case 'GREEDY':
      break;
  }
  if (t.rackSensitive && (s.deployOnRack.get(`${d}@${o.rack}`) ?? 0) >= rackCap(input, t)) {
    return 'RACK_SATURATED';
  }
  return undefined;
}

/** Rebuilds the final state of the cycle; throws on structural problems (unknown ids, twice placed). */
export function finalStateOf(input: MatchInput, result: MatchResult): FinalState {
  const s: FinalState = {
    free: new Map(),
    deployOnHost: new Map(),
    requestOnHost: new Map(),
    deployOnRack: new Map(),
  };
  const offers = new Map(input.offers.map((o) => [o.agentId, o]));
  const count = (requestId: string, deployId: string, o: Offer): void => {
    bump(s.deployOnHost, `${deployOf(requestId, deployId)}@${o.host}`);
    bump(s.requestOnHost, `${requestId}@${o.host}`);
    bump(s.deployOnRack, `${deployOf(requestId, deployId)}@${o.rack}`);
  };
  for (const o of input.offers) {
    s.free.set(o.agentId, {
      cpus: o.cpus,
      memoryMb: o.memoryMb,
      diskMb: o.diskMb,
      ports: portsOf(o),
    });
    for (const r of o.runningTasks ?? []) count(r.requestId, r.deployId, o);
  }
  for (const a of result.assignments) {
    const o = offers.get(a.agentId);
    if (!o) throw new Error(`assignment to unknown agent ${a.agentId}`);
    const f = s.free.get(a.agentId)!;
    f.cpus -= a.resources.cpus;
    f.memoryMb -= a.resources.memoryMb;
    f.diskMb -= a.resources.diskMb;
    for (const p of a.ports) {
      if (!f.ports.delete(p))
        throw new Error(`port ${p} on ${a.agentId} not free or not in its ranges`);
    }
    count(a.taskKey.requestId, a.taskKey.deployId, o);
  }
  return s;
}

/**
 * Checks a result against its input; returns the list of violations (empty when valid).
 * With `complete`, also checks that no unplaced task fits any offer in the final state.
 */
export function checkResult(
  input: MatchInput,
  result: MatchResult,
  leniency = 0.5,
  complete = true,
): string[] {
  const problems: string[] = [];
  const tasks = new Map(input.tasks.map((t) => [keyOf(t.key), t]));
  const offers = new Map(input.offers.map((o) => [o.agentId, o]));
  const seen = new Set<string>();
  for (const k of [
    ...result.assignments.map((a) => a.taskKey),
    ...result.unplaced.map((u) => u.taskKey),
  ]) {
    const key = keyOf(k);
    if (!tasks.has(key)) problems.push(`unknown task ${key}`);
    if (seen.has(key)) problems.push(`task reported twice ${key}`);
    seen.add(key);
  }
  if (seen.size !== tasks.size)
    problems.push(`${tasks.size - seen.size} tasks neither placed nor unplaced`);
  let state: FinalState;
  try {
    state = finalStateOf(input, result);
  } catch (e) {
    return [...problems, (e as Error).message];
  }
  for (const [agentId, f] of state.free) {
    if (f.cpus < -EPS || f.memoryMb < -EPS || f.diskMb < -EPS)
      problems.push(`agent ${agentId} over-committed`);
  }
  // Each assignment must be valid in the final state with itself taken back out.
  for (const a of result.assignments) {
    const t = tasks.get(keyOf(a.taskKey));
    const o = offers.get(a.agentId)!;
    if (!t) continue;
    if (
      a.resources.cpus !== t.resources.cpus ||
      a.resources.memoryMb !== t.resources.memoryMb ||
      a.resources.diskMb !== t.resources.diskMb
    ) {
      problems.push(`assignment amounts differ from the task ${keyOf(a.taskKey)}`);
    }
    if (a.ports.length !== t.resources.numPorts)
      problems.push(`wrong port count for ${keyOf(a.taskKey)}`);
    const why = whyNotInFinal(input, state, t, o, a.ports, leniency);
    if (why) problems.push(`${keyOf(a.taskKey)} on ${a.agentId}: ${why}`);
  }
  if (complete) {
    for (const u of result.unplaced) {
      const t = tasks.get(keyOf(u.taskKey))!;
      const fits = input.offers.find((o) => whyNot(input, state, t, o, leniency) === undefined);
      if (fits) problems.push(`${keyOf(u.taskKey)} left pending but fits ${fits.agentId}`);
    }
  }
  return problems;
}

/** whyNot for an assigned task, judged in the final state minus itself. */
function whyNotInFinal(
  input: MatchInput,
  s: FinalState,
  t: PendingTask,
  o: Offer,
  ports: readonly number[],
  leniency: number,
): string | undefined {
  const d = deployOf(t.key.requestId, t.key.deployId);
  const f = s.free.get(o.agentId)!;
  const hostDeploy = `${d}@${o.host}`;
  const hostRequest = `${t.key.requestId}@${o.host}`;
  const rack = `${d}@${o.rack}`;
  // Take the task back out, ask, put it back.
  const undo = (sign: number): void => {
    f.cpus += sign * t.resources.cpus;
    f.memoryMb += sign * t.resources.memoryMb;
    f.diskMb += sign * t.resources.diskMb;
    for (const p of ports) {
      if (sign > 0) f.ports.add(p);
      else f.ports.delete(p);
    }
    s.deployOnHost.set(hostDeploy, s.deployOnHost.get(hostDeploy)! - sign);
    s.requestOnHost.set(hostRequest, s.requestOnHost.get(hostRequest)! - sign);
    s.deployOnRack.set(rack, s.deployOnRack.get(rack)! - sign);
  };
  undo(1);
  const why = whyNot(input, s, t, o, leniency);
  undo(-1);
  return why;
}
