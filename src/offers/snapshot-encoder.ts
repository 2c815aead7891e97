/**
 * Builds an {@link EncodedSnapshot}: offers first (they define the host and rack ids), then
 * one pass over the task objects that validates and reads each, then a census of the whole
 * cycle, then the tasks' rule caps from the flat arrays.
 */
import {
  HOST_RULES,
  Interner,
  NO_LIMIT,
  SLOTS,
  WATCH_HOST,
  WATCH_RACK,
  deployName,
  encodeOffers,
  sharedFloat64,
  sharedInt32,
  sharedUint8,
  takeCensus,
  toShared,
  type Census,
  type EncodedSnapshot,
  type EncodingTables,
  type InputRefs,
  type OfferPart,
} from './compact-encoding.js';
import {
  PLACEMENTS,
  formatTaskKey,
  placementIndex,
  type MatchInput,
  type PendingTask,
  type ResolvedMatchOptions,
  type TaskKey,
  type TaskResources,
} from './offer-model.js';
import { OfferInputError, assertTask } from './offer-validation.js';
import { PairCounter } from './pair-counter.js';

/**
 * The per-host cap of an OPTIMISTIC request: its even share of the usable hosts, plus the
 * leniency. Singularity derives the share from the hosts already used, which moves as tasks
 * land; a cap fixed for the cycle keeps the rule shard-local and checkable.
 */
function optimisticLimit(total: number, census: Census, leniency: number): number {
  const share = Math.ceil(total / census.usableHosts);
  return Math.max(share, Math.floor(share * (1 + leniency)));
}

/** Host rule of each placement, by index in PLACEMENTS (what the task pass stores). */
const RULE_OF = PLACEMENTS.map((p) => HOST_RULES[p]);
const OPTIMISTIC_INDEX = placementIndex('OPTIMISTIC');

/** A task's rackSensitive / instances in one number: not rack sensitive, or the default. */
const NOT_RACK_SENSITIVE = -1;
const DEFAULT_INSTANCES = 0;

/**
 * Everything the snapshot needs from the task objects, read in one pass (see readTasks);
 * the rule caps are derived from it afterwards, once the census of the whole cycle is known.
 */
interface TaskFields {
  readonly deploy: Int32Array;
  readonly request: Int32Array;
  readonly need: Float64Array;
  /** Index in PLACEMENTS. */
  readonly placement: Uint8Array;
  /** NOT_RACK_SENSITIVE, DEFAULT_INSTANCES or the task's `instances`. */
  readonly instances: Int32Array;
  readonly priority: Float64Array;
  readonly since: Float64Array;
  /** Instance numbers: with `deploy`, the task keys, for the duplicate check. */
  readonly instanceNo: Int32Array;
  /** The key and resources objects themselves, for the result (see InputRefs). */
  readonly taskKeys: TaskKey[];
  readonly taskResources: TaskResources[];
  readonly attributes: ReturnType<AttributeWriter['finish']>;
}

/** The CSR arrays of required and allowed attributes, appended task by task. */
class AttributeWriter {
  private readonly reqStart: Int32Array;
  private readonly reqKey: number[] = [];
  private readonly reqValue: number[] = [];
  private readonly allowStart: Int32Array;
  private readonly allowKey: number[] = [];
  private readonly allowValueStart: number[] = [0];
  private readonly allowValue: number[] = [];

  constructor(
    taskCount: number,
    private readonly t: EncodingTables,
  ) {
    this.reqStart = sharedInt32(taskCount + 1);
    this.allowStart = sharedInt32(taskCount + 1);
  }

  /** Appends task i's attributes (tasks must come in index order). */
  add(i: number, task: PendingTask): void {
    // for-in, not Object.entries: most tasks have no attributes, and entries() allocates.
    const required = task.requiredAttributes;
    for (const k in required) {
      this.reqKey.push(this.t.attrKeys.id(k));
      this.reqValue.push(this.t.attrValues.id(required[k]!));
    }
    const allowed = task.allowedAttributes;
    for (const k in allowed) {
      const values = allowed[k]!;
      this.allowKey.push(this.t.attrKeys.id(k));
      for (const v of values) this.allowValue.push(this.t.attrValues.id(v));
      this.allowValueStart.push(this.allowValue.length);
    }
    this.reqStart[i + 1] = this.reqKey.length;
    this.allowStart[i + 1] = this.allowKey.length;
  }

  finish() {
    return {
      taskReqStart: this.reqStart,
      taskReqKey: toShared(this.reqKey),
      taskReqValue: toShared(this.reqValue),
      taskAllowStart: this.allowStart,
      taskAllowKey: toShared(this.allowKey),
      taskAllowValueStart: toShared(this.allowValueStart),
      taskAllowValue: toShared(this.allowValue),
    };
  }
}

/**
 * The one pass over the task objects: checks each task (assertTask throws an OfferInputError
 * naming the first malformed one, before anything is dispatched or placed) and reads it into
 * flat arrays while it is in cache. 10^5 task objects do not fit in any cache, so every extra
 * pass over them costs a round of memory misses; this one replaces six (validation, ids,
 * resources and rules, attributes, order keys). Request and deploy ids are interned here;
 * tasks of one deploy usually come together, so the last deploy seen is cached.
 */
function readTasks(tasks: readonly unknown[], t: EncodingTables): TaskFields {
  const m = tasks.length;
  const f: Omit<TaskFields, 'attributes'> = {
    deploy: sharedInt32(m),
    request: sharedInt32(m),
    need: sharedFloat64(m * SLOTS),
    placement: new Uint8Array(m),
    instances: new Int32Array(m),
    priority: new Float64Array(m),
    since: new Float64Array(m),
    instanceNo: new Int32Array(m),
    taskKeys: new Array<TaskKey>(m),
    taskResources: new Array<TaskResources>(m),
  };
  const attributes = new AttributeWriter(m, t);
  let last: PendingTask['key'] | undefined;
  let deploy = -1;
  let request = -1;
  for (let i = 0; i < m; i++) {
    const task = tasks[i];
    assertTask(task, i);
    const key = task.key;
    f.taskKeys[i] = key;
    if (!last || key.requestId !== last.requestId || key.deployId !== last.deployId) {
      request = t.requests.id(key.requestId);
      deploy = t.deploys.id(deployName(key.requestId, key.deployId));
      last = key;
    }
    f.request[i] = request;
    f.deploy[i] = deploy;
    f.instanceNo[i] = key.instanceNo; // an integer in [0, 2^31 - 1]: assertTask checked it
    const r = task.resources;
    f.taskResources[i] = r;
    f.need[i * SLOTS] = r.cpus;
    f.need[i * SLOTS + 1] = r.memoryMb;
    f.need[i * SLOTS + 2] = r.diskMb;
    f.need[i * SLOTS + 3] = r.numPorts;
    f.placement[i] = placementIndex(task.placement); // >= 0: assertTask checked it
    f.instances[i] = task.rackSensitive
      ? (task.instances ?? DEFAULT_INSTANCES)
      : NOT_RACK_SENSITIVE;
    f.priority[i] = task.priority ?? 0;
    f.since[i] = task.pendingSince ?? 0;
    attributes.add(i, task);
  }
  return { ...f, attributes: attributes.finish() };
}

type TaskPart = Omit<
  EncodedSnapshot,
  keyof ReturnType<typeof encodeOffers> | 'hostCount' | 'rackCount' | 'deployCount'
>;

/**
 * The per-task rule caps, from the flat fields and the census (no task object is read): host
 * rule scope, cap and reason, rack cap, and which deploys and requests the rules count.
 */
function writeRules(
  f: TaskFields,
  census: Census,
  deployCount: number,
  requestCount: number,
  leniency: number,
) {
  const m = f.deploy.length;
  const out = {
    taskHostScope: sharedInt32(m),
    taskHostLimit: sharedInt32(m),
    taskHostReason: sharedUint8(m),
    taskRackLimit: sharedInt32(m),
    watchedDeploy: sharedUint8(deployCount),
    watchedRequest: sharedUint8(requestCount),
  };
  for (let i = 0; i < m; i++) {
    const deploy = f.deploy[i]!;
    const request = f.request[i]!;
    const placement = f.placement[i]!;
    const rule = RULE_OF[placement]!;
    out.taskHostReason[i] = rule.reason;
    if (rule.scope === 'none') {
      out.taskHostScope[i] = -1;
      out.taskHostLimit[i] = NO_LIMIT;
    } else if (rule.scope === 'deploy') {
      out.taskHostScope[i] = deploy;
      out.taskHostLimit[i] = 1;
      out.watchedDeploy[deploy] = out.watchedDeploy[deploy]! | WATCH_HOST;
    } else {
      out.taskHostScope[i] = deployCount + request;
      out.taskHostLimit[i] =
        placement === OPTIMISTIC_INDEX
          ? optimisticLimit(census.perRequest[request]!, census, leniency)
          : 1;
      out.watchedRequest[request] = 1;
    }
    const instances = f.instances[i]!;
    if (instances === NOT_RACK_SENSITIVE) {
      out.taskRackLimit[i] = NO_LIMIT;
    } else {
      // A pending task counts itself, so perDeploy is at least 1 here.
      const total = instances === DEFAULT_INSTANCES ? census.perDeploy[deploy]! : instances;
      out.taskRackLimit[i] = Math.ceil(total / census.activeRacks);
      out.watchedDeploy[deploy] = out.watchedDeploy[deploy]! | WATCH_RACK;
    }
  }
  return out;
}

/** Matching order: higher priority first, then pending longer, then input order (stable). */
function orderTasks(priority: Float64Array, since: Float64Array): Int32Array {
  const m = priority.length;
  const order = sharedInt32(m);
  if (sortByPackedKey(priority, since, order)) return order;
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => priority[b]! - priority[a]! || since[a]! - since[b]! || a - b);
  return order;
}

/**
 * Writes into `order` the indices 0..m-1 sorted by `keys`, ties in index order: a stable LSD
 * radix sort, two passes of 16 bits (one when the keys fit 16). Linear, where the native
 * comparator sort is O(n log n) on the serial path.
 */
function radixSortIndices(keys: Uint32Array, order: Int32Array): void {
  const m = keys.length;
  let max = 0;
  for (let i = 0; i < m; i++) max = Math.max(max, keys[i]!);
  let src = new Int32Array(m);
  for (let i = 0; i < m; i++) src[i] = i;
  let dst = new Int32Array(m);
  const count = new Int32Array(0x10001);
  for (let shift = 0; shift < 32 && max >>> shift > 0; shift += 16) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[((keys[src[i]!]! >>> shift) & 0xffff) + 1]!++;
    for (let d = 1; d <= 0xffff; d++) count[d] = count[d]! + count[d - 1]!;
    for (let i = 0; i < m; i++) {
      const idx = src[i]!;
      dst[count[(keys[idx]! >>> shift) & 0xffff]!++] = idx;
    }
    [src, dst] = [dst, src];
  }
  order.set(src);
}

/**
 * The usual case, cheaper than a comparator sort: integer priorities and times in a
 * range where (priority rank, age) packs exactly into 32 bits (radix sort, index order for
 * ties) or (priority rank, age, index) into one double (native numeric sort). Returns false
 * (and leaves `order` alone) otherwise.
 */
function sortByPackedKey(priority: Float64Array, since: Float64Array, order: Int32Array): boolean {
  const m = priority.length;
  let pMin = Infinity;
  let pMax = -Infinity;
  let sMin = Infinity;
  let sMax = -Infinity;
  for (let i = 0; i < m; i++) {
    const p = priority[i]!;
    const s = since[i]!;
    if (!Number.isInteger(p) || !Number.isInteger(s)) return false;
    pMin = Math.min(pMin, p);
    pMax = Math.max(pMax, p);
    sMin = Math.min(sMin, s);
    sMax = Math.max(sMax, s);
  }
  const sRange = sMax - sMin + 1;
  if ((pMax - pMin + 1) * sRange <= 2 ** 32) {
    const keys = new Uint32Array(m);
    for (let i = 0; i < m; i++) keys[i] = (pMax - priority[i]!) * sRange + (since[i]! - sMin);
    radixSortIndices(keys, order);
    return true;
  }
  if ((pMax - pMin + 1) * sRange * m >= Number.MAX_SAFE_INTEGER) return false;
  const keys = new Float64Array(m);
  for (let i = 0; i < m; i++)
    keys[i] = ((pMax - priority[i]!) * sRange + (since[i]! - sMin)) * m + i;
  keys.sort();
  for (let i = 0; i < m; i++) order[i] = keys[i]! % m;
  return true;
}

/**
 * Throws on the second task carrying a key already seen. The keys are (deploy id, instance)
 * pairs, counted in a flat pair table: no per-task allocation, one pass.
 */
function rejectDuplicates(tasks: readonly PendingTask[], f: TaskFields): void {
  const seen = new PairCounter(f.deploy.length);
  for (let i = 0; i < f.deploy.length; i++) {
    if (seen.increment(f.deploy[i]!, f.instanceNo[i]!) > 1) {
      const taskKey = formatTaskKey(tasks[i]!.key);
      throw new OfferInputError(`tasks[${i}].key`, 'duplicate task key', { taskKey });
    }
  }
}

function encodeTasks(
  input: MatchInput,
  t: EncodingTables,
  offers: OfferPart,
  options: ResolvedMatchOptions,
): { part: TaskPart; refs: Pick<InputRefs, 'taskKeys' | 'taskResources'> } {
  const fields = readTasks(input.tasks, t);
  rejectDuplicates(input.tasks, fields);
  const deployCount = t.deploys.size;
  const census = takeCensus(offers, fields.deploy, fields.request, {
    hosts: t.hosts.size,
    racks: t.racks.size,
    deploys: deployCount,
    requests: t.requests.size,
  });
  const part: TaskPart = {
    taskCount: input.tasks.length,
    taskNeed: fields.need,
    taskDeploy: fields.deploy,
    taskRequest: fields.request,
    ...writeRules(fields, census, deployCount, t.requests.size, options.optimisticLeniency),
    ...fields.attributes,
    taskOrder: orderTasks(fields.priority, fields.since),
  };
  return { part, refs: { taskKeys: fields.taskKeys, taskResources: fields.taskResources } };
}

/** A cycle's snapshot (shared with workers) and the references the result is built from. */
export interface EncodedCycle {
  readonly snap: EncodedSnapshot;
  readonly refs: InputRefs;
}

/**
 * Encodes an input whose offers are validated (validateOffers) into the numeric, shareable
 * form every matcher path reads. The tasks are validated here, in the same pass that reads
 * them: a malformed task or a duplicate key throws an OfferInputError naming it.
 */
export function encodeCycle(input: MatchInput, options: ResolvedMatchOptions): EncodedCycle {
  const tables: EncodingTables = {
    hosts: new Interner(),
    racks: new Interner(),
    requests: new Interner(),
    deploys: new Interner(),
    attrKeys: new Interner(),
    attrValues: new Interner(),
  };
  const offers = encodeOffers(input, tables);
  const tasks = encodeTasks(input, tables, offers, options);
  const snap: EncodedSnapshot = {
    ...offers,
    ...tasks.part,
    hostCount: tables.hosts.size,
    rackCount: tables.racks.size,
    // Deploys seen only on tasks are interned after the offers; read the count at the end.
    deployCount: tables.deploys.size,
  };
  const refs: InputRefs = {
    ...tasks.refs,
    agentIds: input.offers.map((o) => o.agentId),
    hosts: input.offers.map((o) => o.host),
  };
  return { snap, refs };
}

/** {@link encodeCycle} without the references: the snapshot alone. */
export function encodeSnapshot(input: MatchInput, options: ResolvedMatchOptions): EncodedSnapshot {
  return encodeCycle(input, options).snap;
}
