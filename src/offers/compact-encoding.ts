/**
 * The compact, numeric form of one cycle's input. Strings (ids, hosts, racks, attributes) are
 * interned to integers once on the main thread and everything lands in typed arrays backed by
 * SharedArrayBuffers: pool workers receive the snapshot by reference instead of a structured
 * clone of 10^5 objects per call, and the hot loops read flat arrays instead of chasing objects.
 *
 * The per-host and per-rack caps of the placement rules are computed here, over the whole
 * input, so that every shard of the pool applies the same global limits.
 */
import {
  REJECTION_REASONS,
  type MatchInput,
  type Placement,
  type RejectionReason,
  type TaskKey,
  type TaskResources,
} from './offer-model.js';

/** Numeric code of each rejection reason: its index in REJECTION_REASONS plus one (0 = ok). */
export const REASON_CODE = Object.fromEntries(
  REJECTION_REASONS.map((r, i) => [r, i + 1]),
) as Record<RejectionReason, number>;

/** Cap meaning "no limit". */
export const NO_LIMIT = 0x7fffffff;

/** Bit of watchedDeploy: some host rule counts this deploy per host. */
export const WATCH_HOST = 1;
/** Bit of watchedDeploy: some rack rule counts this deploy per rack. */
export const WATCH_RACK = 2;

/** Resource slots per offer and per task in `offerFree` / `taskNeed`. */
export const CPUS = 0;
/** @see CPUS */
export const MEM = 1;
/** @see CPUS */
export const DISK = 2;
/** @see CPUS */
export const PORTS = 3;
/** Slots per offer or task. */
export const SLOTS = 4;

/** One cycle's input in numeric, shareable form. Never mutated after encoding. */
export interface EncodedSnapshot {
  readonly offerCount: number;
  readonly taskCount: number;
  readonly hostCount: number;
  readonly rackCount: number;
  readonly deployCount: number;
  readonly offerHost: Int32Array;
  readonly offerRack: Int32Array;
  readonly offerUsable: Uint8Array;
  /** SLOTS per offer: free cpus, memory, disk, port count. */
  readonly offerFree: Float64Array;
  /** CSR: attributes of offer o are [offerAttrStart[o], offerAttrStart[o + 1]). */
  readonly offerAttrStart: Int32Array;
  readonly offerAttrKey: Int32Array;
  readonly offerAttrValue: Int32Array;
  /** CSR: free port ranges (inclusive) of each offer. */
  readonly offerPortStart: Int32Array;
  readonly offerPortBegin: Int32Array;
  readonly offerPortEnd: Int32Array;
  /** CSR: running tasks of each offer, as deploy and request ids. */
  readonly runStart: Int32Array;
  readonly runDeploy: Int32Array;
  readonly runRequest: Int32Array;
  /** SLOTS per task: cpus, memory, disk, port count. */
  readonly taskNeed: Float64Array;
  readonly taskDeploy: Int32Array;
  readonly taskRequest: Int32Array;
  /**
   * Counting scope of the task's host rule: its deploy id, or deployCount + its request id for
   * request-wide rules; -1 for GREEDY (no host rule).
   */
  readonly taskHostScope: Int32Array;
  /** Most tasks of the scope one host may hold (after placing this one, minus one). */
  readonly taskHostLimit: Int32Array;
  /** Reason code reported when the host rule rejects. */
  readonly taskHostReason: Uint8Array;
  /** Most tasks of the deploy one rack may hold, or NO_LIMIT when not rack sensitive. */
  readonly taskRackLimit: Int32Array;
  /** CSR: required attributes of each task as (key, value) ids. */
  readonly taskReqStart: Int32Array;
  readonly taskReqKey: Int32Array;
  readonly taskReqValue: Int32Array;
  /** CSR: allowed-attribute entries of each task; each entry a key and a CSR list of values. */
  readonly taskAllowStart: Int32Array;
  readonly taskAllowKey: Int32Array;
  readonly taskAllowValueStart: Int32Array;
  readonly taskAllowValue: Int32Array;
  /** Per deploy: WATCH_HOST if a task's host rule counts it, WATCH_RACK if a rack rule does. */
  readonly watchedDeploy: Uint8Array;
  /** Per request: 1 if a task's host rule counts tasks of the whole request. */
  readonly watchedRequest: Uint8Array;
  /** Task indices in matching order: higher priority first, then longer pending. */
  readonly taskOrder: Int32Array;
  /** Largest free cpus, memory and disk over all offers: the score's normalisers. */
  readonly norm: Float64Array;
}

/**
 * What the result is built from besides the snapshot: each task's key object and each offer's
 * agent id and host, indexed like the snapshot. Gathered during the encoding passes, which walk
 * the input in order, so that building 10^5 assignments in placement order (random with respect
 * to input order) reads a dense array instead of a task object far away in the heap. Stays on
 * the main thread: it is never part of what workers receive.
 */
export interface InputRefs {
  readonly taskKeys: readonly TaskKey[];
  readonly taskResources: readonly TaskResources[];
  readonly agentIds: readonly string[];
  readonly hosts: readonly string[];
}

/** Assigns dense integer ids to strings in order of first sight. */
export class Interner {
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let v = this.ids.get(s);
    if (v === undefined) {
      v = this.ids.size;
      this.ids.set(s, v);
    }
    return v;
  }
  get size(): number {
    return this.ids.size;
  }
}

/** An Int32Array of n elements over a SharedArrayBuffer. */
export function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}
/** A Float64Array over a SharedArrayBuffer. */
export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8));
}
/** A Uint8Array over a SharedArrayBuffer. */
export function sharedUint8(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}
/** Copies numbers into a shared Int32Array. */
export function toShared(values: number[]): Int32Array {
  const a = sharedInt32(values.length);
  a.set(values);
  return a;
}

/** Interners shared by offers and tasks, so equal strings get equal ids on both sides. */
export interface EncodingTables {
  hosts: Interner;
  racks: Interner;
  requests: Interner;
  deploys: Interner;
  attrKeys: Interner;
  attrValues: Interner;
}

/** The interning name of a deploy: deploy ids are only unique within their request. */
export function deployName(requestId: string, deployId: string): string {
  return `${requestId}\u0000${deployId}`;
}

/** The offer half of a snapshot. */
export type OfferPart = Pick<
  EncodedSnapshot,
  | 'offerCount'
  | 'offerHost'
  | 'offerRack'
  | 'offerUsable'
  | 'offerFree'
  | 'offerAttrStart'
  | 'offerAttrKey'
  | 'offerAttrValue'
  | 'offerPortStart'
  | 'offerPortBegin'
  | 'offerPortEnd'
  | 'runStart'
  | 'runDeploy'
  | 'runRequest'
  | 'norm'
>;

/** Encodes the offers, interning hosts, racks, attributes and running tasks. */
export function encodeOffers(input: MatchInput, t: EncodingTables): OfferPart {
  const n = input.offers.length;
  const offerHost = sharedInt32(n);
  const offerRack = sharedInt32(n);
  const offerUsable = sharedUint8(n);
  const offerFree = sharedFloat64(n * SLOTS);
  const norm = sharedFloat64(3);
  const attr = { start: [0], key: [] as number[], value: [] as number[] };
  const port = { start: [0], begin: [] as number[], end: [] as number[] };
  const run = { start: [0], deploy: [] as number[], request: [] as number[] };
  // Plain loops and for-in: no per-offer arrays (entries(), `?? []`, a literal for set()).
  for (let i = 0; i < n; i++) {
    const o = input.offers[i]!;
    offerHost[i] = t.hosts.id(o.host);
    offerRack[i] = t.racks.id(o.rack);
    offerUsable[i] = (o.state ?? 'ACTIVE') === 'ACTIVE' ? 1 : 0;
    let portCount = 0;
    const ranges = o.ports;
    if (ranges !== undefined) {
      for (let j = 0; j < ranges.length; j++) {
        const r = ranges[j]!;
        port.begin.push(r.begin);
        port.end.push(r.end);
        portCount += r.end - r.begin + 1;
      }
    }
    offerFree[i * SLOTS] = o.cpus;
    offerFree[i * SLOTS + 1] = o.memoryMb;
    offerFree[i * SLOTS + 2] = o.diskMb;
    offerFree[i * SLOTS + 3] = portCount;
    norm[0] = Math.max(norm[0]!, o.cpus);
    norm[1] = Math.max(norm[1]!, o.memoryMb);
    norm[2] = Math.max(norm[2]!, o.diskMb);
    const attributes = o.attributes;
    for (const k in attributes) {
      attr.key.push(t.attrKeys.id(k));
      attr.value.push(t.attrValues.id(attributes[k]!));
    }
    const running = o.runningTasks;
    if (running !== undefined) {
      for (let j = 0; j < running.length; j++) {
        const r = running[j]!;
        run.request.push(t.requests.id(r.requestId));
        run.deploy.push(t.deploys.id(deployName(r.requestId, r.deployId)));
      }
    }
    attr.start.push(attr.key.length);
    port.start.push(port.begin.length);
    run.start.push(run.deploy.length);
  }
  return {
    offerCount: n,
    offerHost,
    offerRack,
    offerUsable,
    offerFree,
    offerAttrStart: toShared(attr.start),
    offerAttrKey: toShared(attr.key),
    offerAttrValue: toShared(attr.value),
    offerPortStart: toShared(port.start),
    offerPortBegin: toShared(port.begin),
    offerPortEnd: toShared(port.end),
    runStart: toShared(run.start),
    runDeploy: toShared(run.deploy),
    runRequest: toShared(run.request),
    norm,
  };
}

/** Which counting scope and reason each placement uses. */
export const HOST_RULES: Record<
  Placement,
  { scope: 'none' | 'deploy' | 'request'; reason: number }
> = {
  GREEDY: { scope: 'none', reason: 0 },
  OPTIMISTIC: { scope: 'request', reason: REASON_CODE.OPTIMISTIC_HOST_SATURATED },
  SEPARATE: { scope: 'deploy', reason: REASON_CODE.SEPARATE_BY_DEPLOY },
  SEPARATE_BY_DEPLOY: { scope: 'deploy', reason: REASON_CODE.SEPARATE_BY_DEPLOY },
  SEPARATE_BY_REQUEST: { scope: 'request', reason: REASON_CODE.SEPARATE_BY_REQUEST },
  SPREAD_ALL_AGENTS: { scope: 'deploy', reason: REASON_CODE.SPREAD_ALL_AGENTS },
};

/** Global counts the caps are computed from. */
export interface Census {
  usableHosts: number;
  activeRacks: number;
  /** Running plus pending tasks per deploy id. */
  perDeploy: Int32Array;
  /** Running plus pending tasks per request id. */
  perRequest: Int32Array;
}

/**
 * Counts usable hosts, active racks and instances per deploy and request (running + pending).
 * Ids are dense, so the counts are typed arrays indexed by id, not maps.
 */
export function takeCensus(
  offers: OfferPart,
  deployIds: Int32Array,
  requestIds: Int32Array,
  counts: { hosts: number; racks: number; deploys: number; requests: number },
): Census {
  const host = new Uint8Array(counts.hosts);
  const rack = new Uint8Array(counts.racks);
  let usableHosts = 0;
  let activeRacks = 0;
  for (let o = 0; o < offers.offerCount; o++) {
    if (offers.offerUsable[o] === 0) continue;
    const h = offers.offerHost[o]!;
    const r = offers.offerRack[o]!;
    if (host[h] === 0) usableHosts++;
    if (rack[r] === 0) activeRacks++;
    host[h] = 1;
    rack[r] = 1;
  }
  const perDeploy = new Int32Array(counts.deploys);
  const perRequest = new Int32Array(counts.requests);
  const running = offers.runStart[offers.offerCount]!;
  for (let j = 0; j < running; j++) {
    perDeploy[offers.runDeploy[j]!]!++;
    perRequest[offers.runRequest[j]!]!++;
  }
  for (let i = 0; i < deployIds.length; i++) {
    perDeploy[deployIds[i]!]!++;
    perRequest[requestIds[i]!]!++;
  }
  return {
    usableHosts: Math.max(1, usableHosts),
    activeRacks: Math.max(1, activeRacks),
    perDeploy,
    perRequest,
  };
}
