/**
 * The placement pipeline: feasibility → score → select → ports → commit, over an encoded
 * snapshot. Pure apart from its own state: the same snapshot, candidates, tasks and seed give
 * the same placements. Used as is by the single-threaded path, by each pool worker on its
 * shard, and by the pool driver for its second pass.
 */
import { REJECTION_REASONS } from './offer-model.js';
import { PORTS, SLOTS, type EncodedSnapshot } from './compact-encoding.js';
import {
  FEASIBILITY_STAGES,
  FIRST_RULE_STAGE,
  firstRejection,
  type FeasibilityStage,
  type MatchContext,
} from './feasibility.js';
import { MatchState } from './match-state.js';
import type { ResolvedMatchOptions } from './offer-model.js';
import { makeOfferScorer, type OfferScorer } from './offer-scorer.js';
import { OfferSelector } from './offer-selector.js';
import { PlacementLog } from './placement-log.js';
import { assignPorts } from './port-assigner.js';
import { makeSeededRandom, type SeededRandom } from './seeded-random.js';
import { resourceShapeOf, taskShapeOf } from './task-shape.js';

/** What one run did: its placements went to the log it was given. */
export interface PipelineOutcome {
  /** The log, holding this run's placements after whatever it held before. */
  readonly placed: PlacementLog;
  /** Tasks left pending, in the order they were tried. */
  readonly unplaced: number[];
}

/** Rejection counts of one task: index = reason code (0 unused). */
export type ReasonCounts = Int32Array;

/** Feasibility, scoring and selection of one cycle, assembled once. */
export class MatchPipeline {
  /** The cycle's state; shared with the verifier when the pool re-checks worker results. */
  readonly state: MatchState;
  private readonly stages: readonly FeasibilityStage[];
  /** What the stages read (snapshot and state); the verifier runs the stages on it too. */
  readonly context: MatchContext;
  private readonly scorer: OfferScorer;
  private readonly rng: SeededRandom;

  /**
   * @param seed seeds this pipeline's random stream (a pool shard passes its own)
   * @param tasks the tasks it will place, to size its state (a pool shard passes its own;
   *   default: every task of the snapshot)
   */
  constructor(
    private readonly snap: EncodedSnapshot,
    private readonly options: ResolvedMatchOptions,
    seed: number,
    tasks?: Int32Array,
  ) {
    // State starts from the snapshot: free resources, running tasks per host and rack.
    this.state = new MatchState(snap, tasks);
    // Feasibility: resource stages first (they reject most pairs and are cheapest), then
    // attributes, then the placement rules that need the per-cycle counts.
    this.stages = FEASIBILITY_STAGES;
    this.context = { snap, state: this.state };
    // Score: best fit (binpack) by default, weighted over cpus, memory, disk.
    this.scorer = makeOfferScorer(snap, this.state, options);
    // All randomness (sample order, ties, ports) from one seeded stream.
    this.rng = makeSeededRandom(seed);
  }

  /** The code of the first stage rejecting task t on offer o, or 0 when feasible. */
  readonly rejectionOf = (t: number, o: number): number => firstRejection(this.context, t, o);

  /**
   * Places `tasks` (in that order) on `candidates`, committing each to the state and
   * appending it to `placed` (a new log unless one is given).
   */
  run(
    tasks: Int32Array,
    candidates: Int32Array,
    placed = new PlacementLog(tasks.length),
  ): PipelineOutcome {
    const selector = new OfferSelector(
      this.snap,
      this.state,
      this.rejectionOf,
      this.scorer,
      this.rng,
      this.options,
      candidates,
      tasks,
    );
    const unplaced: number[] = [];
    for (const t of tasks) {
      const o = selector.select(t);
      if (o < 0) {
        unplaced.push(t);
        continue;
      }
      const n = this.snap.taskNeed[t * SLOTS + PORTS]!;
      const at = placed.append(t, o, n);
      assignPorts(this.snap, this.state, o, n, this.rng, placed.data, at);
      this.state.commit(t, o, placed.data, at, n);
      selector.onCommitted(o);
    }
    return { placed, unplaced };
  }

  /**
   * Why each of `tasks` fits none of `candidates` in the current state: the first rejecting
   * stage, counted over every candidate. Tasks share a scan when their resources alone fit no
   * candidate (then the rules never get a say) or when their whole shape is equal.
   */
  explain(tasks: readonly number[], candidates: Int32Array): Map<number, ReasonCounts> {
    const byResources = new Map<string, ReasonCounts | null>();
    const byShape = new Map<string, ReasonCounts>();
    const result = new Map<number, ReasonCounts>();
    for (const t of tasks) {
      const resources = resourceShapeOf(this.snap, t);
      let counts = byResources.get(resources);
      if (counts === undefined) {
        counts = this.countResourceRejections(t, candidates);
        byResources.set(resources, counts);
      }
      if (counts === null) {
        const shape = taskShapeOf(this.snap, t);
        counts = byShape.get(shape) ?? this.countRejections(t, candidates);
        byShape.set(shape, counts);
      }
      result.set(t, counts);
    }
    return result;
  }

  private countRejections(t: number, candidates: Int32Array): ReasonCounts {
    const counts = new Int32Array(REJECTION_REASONS.length + 1);
    for (const o of candidates) counts[this.rejectionOf(t, o)]!++;
    return counts;
  }

  /** Counts by the resource stages alone; null as soon as one candidate passes them all. */
  private countResourceRejections(t: number, candidates: Int32Array): ReasonCounts | null {
    const counts = new Int32Array(REJECTION_REASONS.length + 1);
    const stages = this.stages;
    for (const o of candidates) {
      let reason = 0;
      for (let i = 0; i < FIRST_RULE_STAGE && reason === 0; i++)
        reason = stages[i]!(this.context, t, o);
      if (reason === 0) return null;
      counts[reason]!++;
    }
    return counts;
  }
}
