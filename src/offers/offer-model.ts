/**
 * The public data model of the offer matcher: what goes in (offers and pending tasks), what
 * comes out (assignments and, for each unplaced task, why) and the options that tune it.
 *
 * Field names follow Singularity where it has one (placement names, rack sensitivity, required
 * and allowed agent attributes) so that its operators recognise them.
 */

/** Host placement rules, as in Singularity's `SlavePlacement` (agent instead of slave). */
export const PLACEMENTS = [
  'GREEDY',
  'OPTIMISTIC',
  'SEPARATE',
  'SEPARATE_BY_DEPLOY',
  'SEPARATE_BY_REQUEST',
  'SPREAD_ALL_AGENTS',
] as const;

/** One of {@link PLACEMENTS}. `SEPARATE` is an alias of `SEPARATE_BY_DEPLOY`. */
export type Placement = (typeof PLACEMENTS)[number];

/**
 * The index of `p` in {@link PLACEMENTS} (undefined → GREEDY), or -1 when it is not a
 * placement. A switch rather than a Map: it runs on every task of a cycle, twice (validation
 * and encoding), and string compares against these literals are cheaper than a hash lookup.
 */
export function placementIndex(p: unknown): number {
  switch (p) {
    case undefined:
    case 'GREEDY':
      return 0;
    case 'OPTIMISTIC':
      return 1;
    case 'SEPARATE':
      return 2;
    case 'SEPARATE_BY_DEPLOY':
      return 3;
    case 'SEPARATE_BY_REQUEST':
      return 4;
    case 'SPREAD_ALL_AGENTS':
      return 5;
    default:
      return -1;
  }
}

/** Agent states; only `ACTIVE` agents accept new tasks. */
export const AGENT_STATES = [
  'ACTIVE',
  'FROZEN',
  'DECOMMISSIONING',
  'DECOMMISSIONED',
  'DEAD',
] as const;

/** One of {@link AGENT_STATES}. */
export type AgentState = (typeof AGENT_STATES)[number];

/**
 * Named reasons an offer was rejected for a task, in the order the feasibility stages run.
 * Each rejected (task, offer) pair is counted under the first stage that failed.
 */
export const REJECTION_REASONS = [
  'AGENT_NOT_USABLE',
  'INSUFFICIENT_CPUS',
  'INSUFFICIENT_MEMORY',
  'INSUFFICIENT_DISK',
  'INSUFFICIENT_PORTS',
  'MISSING_REQUIRED_ATTRIBUTE',
  'ATTRIBUTE_NOT_ALLOWED',
  'SEPARATE_BY_DEPLOY',
  'SEPARATE_BY_REQUEST',
  'SPREAD_ALL_AGENTS',
  'OPTIMISTIC_HOST_SATURATED',
  'RACK_SATURATED',
] as const;

/** One of {@link REJECTION_REASONS}. */
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** An inclusive range of free ports on an agent, e.g. `{ begin: 31000, end: 31999 }`. */
export interface PortRange {
  readonly begin: number;
  readonly end: number;
}

/** A task already running on an agent; counted by the placement and rack rules. */
export interface RunningTaskRef {
  readonly requestId: string;
  readonly deployId: string;
}

/** The free resources of one agent for one scheduling cycle (Mesos semantics: exclusive). */
export interface Offer {
  readonly agentId: string;
  readonly host: string;
  readonly rack: string;
  /** Agent attributes (e.g. `{ instanceType: 'c5' }`); defaults to none. */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly cpus: number;
  readonly memoryMb: number;
  readonly diskMb: number;
  /** Free port ranges; defaults to none. */
  readonly ports?: readonly PortRange[];
  /** Tasks already on the agent; defaults to none. */
  readonly runningTasks?: readonly RunningTaskRef[];
  /** Defaults to `ACTIVE`. */
  readonly state?: AgentState;
}

/** Identifies a pending task: one instance of one deploy of one request. */
export interface TaskKey {
  readonly requestId: string;
  readonly deployId: string;
  readonly instanceNo: number;
}

/** What one instance needs. */
export interface TaskResources {
  readonly cpus: number;
  readonly memoryMb: number;
  readonly diskMb: number;
  readonly numPorts: number;
}

/** A task waiting to be placed. */
export interface PendingTask {
  readonly key: TaskKey;
  readonly resources: TaskResources;
  /** Defaults to `GREEDY`. */
  readonly placement?: Placement;
  /** No rack may hold more than its share of the deploy's instances. Defaults to false. */
  readonly rackSensitive?: boolean;
  /** The agent must have each of these attributes with exactly this value. */
  readonly requiredAttributes?: Readonly<Record<string, string>>;
  /** If the agent has one of these attributes, its value must be one of the listed ones. */
  readonly allowedAttributes?: Readonly<Record<string, readonly string[]>>;
  /** Higher goes first. Defaults to 0. */
  readonly priority?: number;
  /** Epoch milliseconds since the task has been due; older goes first. Defaults to 0. */
  readonly pendingSince?: number;
  /**
   * Desired instance count of the deploy, the basis of the rack share. Defaults to the number
   * of its tasks in the input (running plus pending).
   */
  readonly instances?: number;
}

/** Everything one matching cycle looks at. */
export interface MatchInput {
  readonly offers: readonly Offer[];
  readonly tasks: readonly PendingTask[];
}

/** A task placed on an agent, with the resources and ports it takes from the offer. */
export interface Assignment {
  readonly taskKey: TaskKey;
  readonly agentId: string;
  readonly host: string;
  /**
   * What the task takes: its own `resources` object from the input (not a copy; the matcher
   * never changes it). 10^5 copies of three fractional amounts cost a boxed number each, on
   * the serial path of a pool cycle.
   */
  readonly resources: TaskResources;
  readonly ports: readonly number[];
}

/** A task left pending, with how many offers were rejected for each reason. */
export interface UnplacedTask {
  readonly taskKey: TaskKey;
  /** Only reasons with a non-zero count appear, e.g. `{ INSUFFICIENT_MEMORY: 7 }`. */
  readonly reasons: Partial<Record<RejectionReason, number>>;
}

/** The outcome of one cycle: assignments in placement order, then what stayed pending. */
export interface MatchResult {
  readonly assignments: readonly Assignment[];
  readonly unplaced: readonly UnplacedTask[];
}

/** Weights of the resources in the score; they need not sum to 1. */
export interface ScoreWeights {
  readonly cpus: number;
  readonly memoryMb: number;
  readonly diskMb: number;
}

/** How the matcher chooses among feasible offers. */
export interface MatchOptions {
  /** Seed of every random choice (tie breaks, sample order, ports). Defaults to 1. */
  readonly seed?: number;
  /** `binpack` (default) fills the fullest agents first; `spread` the emptiest. */
  readonly scoring?: 'binpack' | 'spread';
  /** Defaults to cpus 0.4, memory 0.4, disk 0.2. */
  readonly weights?: ScoreWeights;
  /** `sample` (default) scores a bounded sample of feasible offers; `full` scores all. */
  readonly selection?: 'sample' | 'full';
  /** Feasible offers scored per task in `sample` mode. Defaults to 32. */
  readonly sampleSize?: number;
  /** Offers examined per task before the sample is cut short. Defaults to 1024. */
  readonly maxScan?: number;
  /** Clusters with at most this many offers are always fully scanned. Defaults to 64. */
  readonly fullScanBelow?: number;
  /** OPTIMISTIC: extra share allowed on a host above the even share. Defaults to 0.5. */
  readonly optimisticLeniency?: number;
}

/** {@link MatchOptions} with every default filled in. */
export type ResolvedMatchOptions = Required<MatchOptions>;

/** Fills in the defaults of {@link MatchOptions}. */
export function resolveMatchOptions(options: MatchOptions = {}): ResolvedMatchOptions {
  return {
    seed: options.seed ?? 1,
    scoring: options.scoring ?? 'binpack',
    weights: options.weights ?? { cpus: 0.4, memoryMb: 0.4, diskMb: 0.2 },
    selection: options.selection ?? 'sample',
    sampleSize: options.sampleSize ?? 32,
    maxScan: options.maxScan ?? 1024,
    fullScanBelow: options.fullScanBelow ?? 64,
    optimisticLeniency: options.optimisticLeniency ?? 0.5,
  };
}

/** Formats a task key the way errors and logs show it: `request/deploy/instance`. */
export function formatTaskKey(key: TaskKey): string {
  return `${key.requestId}/${key.deployId}/${key.instanceNo}`;
}
