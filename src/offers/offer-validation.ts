/**
 * Input validation of a matching cycle. Hand-written rather than zod: it runs on every cycle
 * over up to 10^5 tasks on the leader's critical path, where a schema library's per-field
 * allocation is measurable. Bad input places nothing (invariant 7): the first problem found
 * is thrown as an {@link OfferInputError} that names the item.
 */
import {
  AGENT_STATES,
  PLACEMENTS,
  formatTaskKey,
  placementIndex,
  type MatchInput,
  type MatchOptions,
  type PendingTask,
} from './offer-model.js';

/** A matching input was malformed; nothing was placed. */
export class OfferInputError extends Error {
  /** Stable code for the API error registry. */
  readonly code = 'INVALID_OFFER_INPUT';
  /** Where the problem is, e.g. `tasks[12].resources.cpus`. */
  readonly path: string;
  /** The offending task's key (`request/deploy/instance`), when the item is a task. */
  readonly taskKey: string | undefined;
  /** The offending offer's agent id, when the item is an offer. */
  readonly agentId: string | undefined;

  /** @param problem what is wrong, e.g. `must be a finite number >= 0` */
  constructor(path: string, problem: string, item: { taskKey?: string; agentId?: string } = {}) {
    const who = item.taskKey
      ? ` (task ${item.taskKey})`
      : item.agentId
        ? ` (agent ${item.agentId})`
        : '';
    super(`${path}: ${problem}${who}`);
    this.name = 'OfferInputError';
    this.path = path;
    this.taskKey = item.taskKey;
    this.agentId = item.agentId;
  }
}

const STATE_SET: ReadonlySet<string> = new Set(AGENT_STATES);

/** Throws at a path relative to the item being checked, e.g. `.resources.cpus`. */
type Fail = (path: string, problem: string) => never;

const AMOUNT = 'must be a finite number >= 0';
const STRING = 'must be a non-empty string';
const OBJECT = 'must be an object';
const MAX_INT = 2 ** 31 - 1;
const RESOURCE_FIELDS = ['cpus', 'memoryMb', 'diskMb'] as const;

// Paths are only built when a check fails: on 10^5 tasks, building them eagerly costs more
// than the checks themselves.
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isAmount(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
function isInteger(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
function isName(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

function checkStringRecord(v: unknown, path: string, fail: Fail): void {
  if (v === undefined) return;
  if (!isRecord(v)) fail(path, 'must be an object of strings');
  for (const k in v) {
    if (typeof v[k] !== 'string') fail(`${path}.${k}`, 'must be a string');
  }
}

function checkAllowedAttributes(v: unknown, fail: Fail): void {
  if (v === undefined) return;
  if (!isRecord(v)) fail('.allowedAttributes', 'must be an object of string arrays');
  for (const k in v) {
    const values = v[k];
    if (!Array.isArray(values) || values.some((x) => typeof x !== 'string')) {
      fail(`.allowedAttributes.${k}`, 'must be an array of strings');
    }
  }
}

function checkPortRanges(v: unknown, fail: Fail): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) fail('.ports', 'must be an array');
  v.forEach((r: unknown, j) => {
    if (!isRecord(r)) fail(`.ports[${j}]`, OBJECT);
    if (!isInteger(r['begin'], 1, 65535))
      fail(`.ports[${j}].begin`, 'must be an integer in [1, 65535]');
    if (!isInteger(r['end'], r['begin'] as number, 65535)) {
      fail(`.ports[${j}].end`, `must be an integer in [${r['begin'] as number}, 65535]`);
    }
  });
}

function checkRunningTasks(v: unknown, fail: Fail): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) fail('.runningTasks', 'must be an array');
  v.forEach((r: unknown, j) => {
    if (!isRecord(r)) fail(`.runningTasks[${j}]`, OBJECT);
    if (!isName(r['requestId'])) fail(`.runningTasks[${j}].requestId`, STRING);
    if (!isName(r['deployId'])) fail(`.runningTasks[${j}].deployId`, STRING);
  });
}

function checkOffer(offer: unknown, i: number, seen: Set<string>): void {
  const agentId =
    isRecord(offer) && isName(offer['agentId']) ? (offer['agentId'] as string) : undefined;
  const fail: Fail = (path, problem) => {
    throw new OfferInputError(`offers[${i}]${path}`, problem, agentId ? { agentId } : {});
  };
  if (!isRecord(offer)) fail('', OBJECT);
  if (agentId === undefined) fail('.agentId', STRING);
  if (seen.has(agentId)) fail('.agentId', 'duplicate agent id');
  seen.add(agentId);
  if (!isName(offer['host'])) fail('.host', STRING);
  if (!isName(offer['rack'])) fail('.rack', STRING);
  for (const field of RESOURCE_FIELDS) {
    if (!isAmount(offer[field])) fail(`.${field}`, AMOUNT);
  }
  checkStringRecord(offer['attributes'], '.attributes', fail);
  const state = offer['state'];
  if (state !== undefined && !STATE_SET.has(state as string)) {
    fail('.state', `must be one of ${AGENT_STATES.join(', ')}`);
  }
  checkPortRanges(offer['ports'], fail);
  checkRunningTasks(offer['runningTasks'], fail);
}

/** Checks the task key (its own errors name no task key: the key itself is what is wrong). */
function checkTaskKey(task: Record<string, unknown>, i: number): void {
  const fail: Fail = (path, problem) => {
    throw new OfferInputError(`tasks[${i}]${path}`, problem);
  };
  const key = task['key'];
  if (!isRecord(key)) fail('.key', OBJECT);
  if (!isName(key['requestId'])) fail('.key.requestId', STRING);
  if (!isName(key['deployId'])) fail('.key.deployId', STRING);
  if (!isInteger(key['instanceNo'], 0, MAX_INT)) {
    fail('.key.instanceNo', `must be an integer in [0, ${MAX_INT}]`);
  }
}

function checkTask(task: unknown, i: number): void {
  if (!isRecord(task)) throw new OfferInputError(`tasks[${i}]`, OBJECT);
  checkTaskKey(task, i);
  const fail: Fail = (path, problem) => {
    const taskKey = formatTaskKey(task['key'] as PendingTask['key']);
    throw new OfferInputError(`tasks[${i}]${path}`, problem, { taskKey });
  };
  const res = task['resources'];
  if (!isRecord(res)) fail('.resources', OBJECT);
  for (const field of RESOURCE_FIELDS) {
    if (!isAmount(res[field])) fail(`.resources.${field}`, AMOUNT);
  }
  if (!isInteger(res['numPorts'], 0, 65535))
    fail('.resources.numPorts', 'must be an integer in [0, 65535]');
  const placement = task['placement'];
  if (placementIndex(placement) < 0) {
    fail('.placement', `must be one of ${PLACEMENTS.join(', ')}`);
  }
  const rack = task['rackSensitive'];
  if (rack !== undefined && typeof rack !== 'boolean') fail('.rackSensitive', 'must be a boolean');
  checkStringRecord(task['requiredAttributes'], '.requiredAttributes', fail);
  checkAllowedAttributes(task['allowedAttributes'], fail);
  for (const field of ['priority', 'pendingSince'] as const) {
    const v = task[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
      fail(`.${field}`, 'must be a finite number');
    }
  }
  const instances = task['instances'];
  if (instances !== undefined && !isInteger(instances, 1, MAX_INT)) {
    fail('.instances', `must be an integer in [1, ${MAX_INT}]`);
  }
}

function isStringRecord(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isRecord(v)) return false;
  for (const k in v) if (typeof v[k] !== 'string') return false;
  return true;
}

function isAllowedAttributes(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isRecord(v)) return false;
  for (const k in v) {
    const values = v[k];
    if (!Array.isArray(values)) return false;
    for (const x of values) if (typeof x !== 'string') return false;
  }
  return true;
}

function isOptionalFinite(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * The fast path: true when a task is well formed, with no allocation. Only when it says no
 * does checkTask run, to name the field; on 10^5 tasks the difference is tens of ms.
 */
function isWellFormedTask(task: unknown): boolean {
  if (!isRecord(task)) return false;
  const key = task['key'];
  const res = task['resources'];
  const placement = task['placement'];
  const rack = task['rackSensitive'];
  const instances = task['instances'];
  return (
    isRecord(key) &&
    isName(key['requestId']) &&
    isName(key['deployId']) &&
    isInteger(key['instanceNo'], 0, MAX_INT) &&
    isRecord(res) &&
    isAmount(res['cpus']) &&
    isAmount(res['memoryMb']) &&
    isAmount(res['diskMb']) &&
    isInteger(res['numPorts'], 0, 65535) &&
    placementIndex(placement) >= 0 &&
    (rack === undefined || typeof rack === 'boolean') &&
    isStringRecord(task['requiredAttributes']) &&
    isAllowedAttributes(task['allowedAttributes']) &&
    isOptionalFinite(task['priority']) &&
    isOptionalFinite(task['pendingSince']) &&
    (instances === undefined || isInteger(instances, 1, MAX_INT))
  );
}

/**
 * Checks the shape of the input and every offer, not the tasks. The pool runs this before it
 * dispatches work (offers bound the workers' loops, e.g. port ranges) and checks the tasks
 * while the workers run; see offer-pool.ts.
 */
export function validateOffers(input: unknown): MatchInput {
  if (!isRecord(input)) throw new OfferInputError('input', 'must be an object');
  const { offers, tasks } = input;
  if (!Array.isArray(offers)) throw new OfferInputError('offers', 'must be an array');
  if (!Array.isArray(tasks)) throw new OfferInputError('tasks', 'must be an array');
  const agents = new Set<string>();
  offers.forEach((o: unknown, i) => checkOffer(o, i, agents));
  return input as unknown as MatchInput;
}

/**
 * Checks task i (all but duplicate keys, which the encoder finds as it interns ids); throws an
 * {@link OfferInputError} naming the field when it is malformed. The encoder calls this on
 * each task just before reading it, so the 10^5 task objects are walked once, not twice.
 */
export function assertTask(task: unknown, i: number): asserts task is PendingTask {
  if (!isWellFormedTask(task)) checkTask(task, i);
}

/** Checks the numeric options; the error names the option. */
export function validateMatchOptions(options: MatchOptions): void {
  const fail: Fail = (path, problem) => {
    throw new OfferInputError(`options${path}`, problem);
  };
  const { seed, weights, scoring, selection } = options;
  if (seed !== undefined && !isInteger(seed, -(2 ** 31), 2 ** 32 - 1))
    fail('.seed', 'must be a 32-bit integer');
  for (const field of ['sampleSize', 'maxScan'] as const) {
    const v = options[field];
    if (v !== undefined && !isInteger(v, 1, MAX_INT)) fail(`.${field}`, 'must be an integer >= 1');
  }
  const below = options.fullScanBelow;
  if (below !== undefined && !isInteger(below, 0, MAX_INT))
    fail('.fullScanBelow', 'must be an integer >= 0');
  const leniency = options.optimisticLeniency;
  if (leniency !== undefined && !isAmount(leniency)) fail('.optimisticLeniency', AMOUNT);
  for (const field of RESOURCE_FIELDS) {
    if (weights !== undefined && !isAmount(weights[field])) fail(`.weights.${field}`, AMOUNT);
  }
  if (scoring !== undefined && scoring !== 'binpack' && scoring !== 'spread') {
    fail('.scoring', 'must be binpack or spread');
  }
  if (selection !== undefined && selection !== 'sample' && selection !== 'full') {
    fail('.selection', 'must be sample or full');
  }
}
