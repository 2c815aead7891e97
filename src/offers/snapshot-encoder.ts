/**
 * Builds an {@link EncodedSnapshot} from a validated input: offers first (they define the host
 * and rack ids), then a census of the whole cycle, then the tasks with their rule caps.
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
} from './compact-encoding.js';
import {
  formatTaskKey,
  type MatchInput,
  type PendingTask,
  type ResolvedMatchOptions,
} from './offer-model.js';
import { OfferInputError } from './offer-validation.js';

/**
 * The per-host cap of an OPTIMISTIC request: its even share of the usable hosts, plus the
 * leniency. Singularity derives the share from the hosts already used, which moves as tasks
 * land; a cap fixed for the cycle keeps the rule shard-local and checkable.
 */
function optimisticLimit(total: number, census: Census, leniency: number): number {
  const share = Math.ceil(total / census.usableHosts);
  return Math.max(share, Math.floor(share * (1 + leniency)));
}

/** Writes task i's host rule: counting scope, per-host cap and rejection reason. */
function writeHostRule(
  out: Pick<EncodedSnapshot, 'taskHostScope' | 'taskHostLimit' | 'taskHostReason'>,
  i: number,
  task: PendingTask,
  ids: { deploy: number; request: number; deployCount: number },
  census: Census,
  leniency: number,
): void {
  const rule = HOST_RULES[task.placement ?? 'GREEDY'];
  out.taskHostReason[i] = rule.reason;
  if (rule.scope === 'none') {
    out.taskHostScope[i] = -1;
    out.taskHostLimit[i] = NO_LIMIT;
  } else if (rule.scope === 'deploy') {
    out.taskHostScope[i] = ids.deploy;
    out.taskHostLimit[i] = 1;
  } else {
    out.taskHostScope[i] = ids.deployCount + ids.request;
    out.taskHostLimit[i] =
      task.placement === 'OPTIMISTIC'
        ? optimisticLimit(census.perRequest.get(ids.request) ?? 1, census, leniency)
        : 1;
  }
}

type TaskPart = Omit<
  EncodedSnapshot,
  keyof ReturnType<typeof encodeOffers> | 'hostCount' | 'rackCount' | 'deployCount'
>;

function encodeAttributes(tasks: readonly PendingTask[], t: EncodingTables) {
  const req = { start: [0], key: [] as number[], value: [] as number[] };
  const allow = { start: [0], key: [] as number[], valueStart: [0], value: [] as number[] };
  for (const task of tasks) {
    // for-in, not Object.entries: most tasks have no attributes, and entries() allocates.
    const required = task.requiredAttributes;
    for (const k in required) {
      req.key.push(t.attrKeys.id(k));
      req.value.push(t.attrValues.id(required[k]!));
    }
    const allowed = task.allowedAttributes;
    for (const k in allowed) {
      const values = allowed[k]!;
      allow.key.push(t.attrKeys.id(k));
      for (const v of values) allow.value.push(t.attrValues.id(v));
      allow.valueStart.push(allow.value.length);
    }
    req.start.push(req.key.length);
    allow.start.push(allow.key.length);
  }
  return {
    taskReqStart: toShared(req.start),
    taskReqKey: toShared(req.key),
    taskReqValue: toShared(req.value),
    taskAllowStart: toShared(allow.start),
    taskAllowKey: toShared(allow.key),
    taskAllowValueStart: toShared(allow.valueStart),
    taskAllowValue: toShared(allow.value),
  };
}

/** Matching order: higher priority first, then pending longer, then input order (stable). */
function orderTasks(tasks: readonly PendingTask[]): Int32Array {
  const m = tasks.length;
  const priority = new Float64Array(m);
  const since = new Float64Array(m);
  tasks.forEach((task, i) => {
    priority[i] = task.priority ?? 0;
    since[i] = task.pendingSince ?? 0;
  });
  const order = sharedInt32(m);
  if (sortByPackedKey(priority, since, order)) return order;
  for (let i = 0; i < m; i++) order[i] = i;
  order.sort((a, b) => priority[b]! - priority[a]! || since[a]! - since[b]! || a - b);
  return order;
}

/**
 * The usual case, about 3x faster than a comparator sort: integer priorities and times in a
 * range where (priority rank, age, index) packs exactly into one double, so the native
 * numeric sort orders the tasks. Returns false (and leaves `order` alone) otherwise.
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
  if ((pMax - pMin + 1) * sRange * m >= Number.MAX_SAFE_INTEGER) return false;
  const keys = new Float64Array(m);
  for (let i = 0; i < m; i++)
    keys[i] = ((pMax - priority[i]!) * sRange + (since[i]! - sMin)) * m + i;
  keys.sort();
  for (let i = 0; i < m; i++) order[i] = keys[i]! % m;
  return true;
}

/**
 * Interns request and deploy ids of every task and rejects duplicate task keys. Tasks of one
 * deploy usually come together, so the last deploy seen is cached to skip the string work.
 */
function internTaskIds(
  tasks: readonly PendingTask[],
  t: EncodingTables,
  deploys: Int32Array,
  requests: Int32Array,
): void {
  // Keys as doubles in a typed array, sorted, then neighbours compared: no per-task heap
  // allocation (a Set of numbers beyond 2^31 would box every one of them).
  const keys = new Float64Array(tasks.length);
  let last: PendingTask['key'] | undefined;
  let deploy = -1;
  let request = -1;
  for (let i = 0; i < tasks.length; i++) {
    const key = tasks[i]!.key;
    if (!last || key.requestId !== last.requestId || key.deployId !== last.deployId) {
      request = t.requests.id(key.requestId);
      deploy = t.deploys.id(deployName(key.requestId, key.deployId));
      last = key;
    }
    requests[i] = request;
    deploys[i] = deploy;
    // Exact while deploy ids stay below 2^22 (4M deploys in one cycle).
    keys[i] = deploy * 2 ** 31 + key.instanceNo;
  }
  const sorted = keys.slice().sort();
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throwDuplicate(tasks, keys, sorted[i]!);
  }
}

/** Names the second task carrying a duplicated key (slow path, error only). */
function throwDuplicate(tasks: readonly PendingTask[], keys: Float64Array, dup: number): never {
  const first = keys.indexOf(dup);
  const i = keys.indexOf(dup, first + 1);
  const taskKey = formatTaskKey(tasks[i]!.key);
  throw new OfferInputError(`tasks[${i}].key`, 'duplicate task key', { taskKey });
}

function encodeTasks(
  input: MatchInput,
  t: EncodingTables,
  censusOf: (deploys: Int32Array, requests: Int32Array) => Census,
  options: ResolvedMatchOptions,
): TaskPart {
  const m = input.tasks.length;
  const taskDeploy = sharedInt32(m);
  const requests = sharedInt32(m);
  internTaskIds(input.tasks, t, taskDeploy, requests);
  const census = censusOf(taskDeploy, requests);
  const deployCount = t.deploys.size;
  const taskNeed = sharedFloat64(m * SLOTS);
  const rules = {
    taskHostScope: sharedInt32(m),
    taskHostLimit: sharedInt32(m),
    taskHostReason: sharedUint8(m),
  };
  const taskRackLimit = sharedInt32(m);
  const ids = { deploy: 0, request: 0, deployCount };
  for (let i = 0; i < m; i++) {
    const task = input.tasks[i]!;
    const r = task.resources;
    taskNeed[i * SLOTS] = r.cpus;
    taskNeed[i * SLOTS + 1] = r.memoryMb;
    taskNeed[i * SLOTS + 2] = r.diskMb;
    taskNeed[i * SLOTS + 3] = r.numPorts;
    ids.deploy = taskDeploy[i]!;
    ids.request = requests[i]!;
    writeHostRule(rules, i, task, ids, census, options.optimisticLeniency);
    if (task.rackSensitive) {
      const instances = task.instances ?? census.perDeploy.get(ids.deploy) ?? 1;
      taskRackLimit[i] = Math.ceil(instances / census.activeRacks);
    } else {
      taskRackLimit[i] = NO_LIMIT;
    }
  }
  return {
    ...watchScopes(
      taskDeploy,
      requests,
      rules.taskHostScope,
      taskRackLimit,
      deployCount,
      t.requests.size,
    ),
    taskCount: m,
    taskNeed,
    taskDeploy,
    taskRequest: requests,
    ...rules,
    taskRackLimit,
    ...encodeAttributes(input.tasks, t),
    taskOrder: orderTasks(input.tasks),
  };
}

/** Marks the deploys and requests whose per-host or per-rack counts some rule reads. */
function watchScopes(
  deploys: Int32Array,
  requests: Int32Array,
  hostScope: Int32Array,
  rackLimit: Int32Array,
  deployCount: number,
  requestCount: number,
): Pick<EncodedSnapshot, 'watchedDeploy' | 'watchedRequest'> {
  const watchedDeploy = sharedUint8(deployCount);
  const watchedRequest = sharedUint8(requestCount);
  for (let i = 0; i < deploys.length; i++) {
    const scope = hostScope[i]!;
    if (scope >= deployCount) watchedRequest[requests[i]!] = 1;
    else if (scope >= 0) watchedDeploy[scope] = watchedDeploy[scope]! | WATCH_HOST;
    if (rackLimit[i] !== NO_LIMIT)
      watchedDeploy[deploys[i]!] = watchedDeploy[deploys[i]!]! | WATCH_RACK;
  }
  return { watchedDeploy, watchedRequest };
}

/** Encodes a validated input into the numeric, shareable form every matcher path reads. */
export function encodeSnapshot(input: MatchInput, options: ResolvedMatchOptions): EncodedSnapshot {
  const tables: EncodingTables = {
    hosts: new Interner(),
    racks: new Interner(),
    requests: new Interner(),
    deploys: new Interner(),
    attrKeys: new Interner(),
    attrValues: new Interner(),
  };
  const offers = encodeOffers(input, tables);
  const tasks = encodeTasks(input, tables, (d, r) => takeCensus(input, offers, d, r), options);
  return {
    ...offers,
    ...tasks,
    hostCount: tables.hosts.size,
    rackCount: tables.racks.size,
    // Deploys seen only on tasks are interned after the offers; read the count at the end.
    deployCount: tables.deploys.size,
  };
}
