/**
 * Steps 4 and 5 of a pool cycle, on the main thread: verify and commit each shard's proposals
 * against the global state of the cycle, then place the leftovers over all offers and explain
 * what is still pending. Shards are verified in shard order, each in its matching order, so
 * the result does not depend on which worker finished first; the driver hands a shard over as
 * soon as it and every shard before it have arrived, so verifying the first shards (and
 * building their assignment objects) overlaps the last ones still matching.
 */
import { acceptProposal } from './assignment-verifier.js';
import { MatchPipeline } from './match-pipeline.js';
import { allOffers } from './match-offers.js';
import { appendAssignments, toMatchResult } from './match-result.js';
import type { Assignment, MatchResult, ResolvedMatchOptions } from './offer-model.js';
import { PlacementLog, RECORD_HEADER } from './placement-log.js';
import { deriveSeed } from './seeded-random.js';
import type { EncodedCycle } from './snapshot-encoder.js';

/** Tasks of `order` not marked placed, in that order. */
function unplacedOf(order: Int32Array, placedMark: Uint8Array, placed: number): Int32Array {
  const left = new Int32Array(order.length - placed);
  let k = 0;
  for (let i = 0; i < order.length; i++) if (placedMark[order[i]!] === 0) left[k++] = order[i]!;
  return left;
}

/** The main thread's side of one pool cycle. */
export class CycleSettler {
  private readonly pipeline: MatchPipeline;
  /** 1 for tasks already accepted: a task is placed at most once. */
  private readonly placedMark: Uint8Array;
  private readonly placed: PlacementLog;
  /** Assignment objects of the accepted records before int offset `built` of the log. */
  private readonly assignments: Assignment[] = [];
  private built = 0;

  /** The global state starts from the snapshot, like every shard's. */
  constructor(
    private readonly cycle: EncodedCycle,
    options: ResolvedMatchOptions,
    shardCount: number,
  ) {
    const { snap } = cycle;
    this.pipeline = new MatchPipeline(snap, options, deriveSeed(options.seed, shardCount));
    this.placedMark = new Uint8Array(snap.taskCount);
    this.placed = new PlacementLog(snap.taskCount);
  }

  /**
   * Accepts the proposals of the next shard (`task, offer, portCount, ...ports` each) that are
   * still valid against everything accepted so far. Shards own disjoint hosts (and racks when
   * there are enough), so proposals of different shards almost never compete; when they do,
   * the lower shard wins and the other task goes to the second pass. Whatever a worker sent
   * (stale, conflicting or garbage), nothing invalid is committed.
   */
  verify(flat: Int32Array): void {
    const { snap } = this.cycle;
    for (let k = 0; k + 2 < flat.length;) {
      const t = flat[k]!;
      const o = flat[k + 1]!;
      const n = Math.max(0, flat[k + 2]!);
      if (acceptProposal(snap, this.pipeline, this.placedMark, t, o, flat, k + RECORD_HEADER, n)) {
        this.placed.copy(t, o, flat, k + RECORD_HEADER, n);
      }
      k += RECORD_HEADER + n;
    }
    // The objects of this shard's placements now: while a later shard still matches, this
    // runs on the core an idle worker left.
    this.built = appendAssignments(this.cycle.refs, this.placed, this.built, this.assignments);
  }

  /** Places the leftovers over all offers, explains what stays pending, builds the result. */
  finish(): MatchResult {
    const { snap, refs } = this.cycle;
    const { pipeline, placed, assignments, built } = this;
    const leftovers = unplacedOf(snap.taskOrder, this.placedMark, placed.count);
    if (leftovers.length === 0)
      return toMatchResult(refs, placed, [], new Map(), assignments, built);
    const candidates = allOffers(snap.offerCount);
    const second = pipeline.run(leftovers, candidates, placed);
    const reasons = pipeline.explain(second.unplaced, candidates);
    return toMatchResult(refs, placed, second.unplaced, reasons, assignments, built);
  }
}

/**
 * Steps 4 and 5 over all shards' proposals at once. Exported for tests that feed it hostile
 * proposals.
 */
export function settleCycle(
  cycle: EncodedCycle,
  options: ResolvedMatchOptions,
  proposals: readonly Int32Array[],
  shardCount: number,
): MatchResult {
  const settler = new CycleSettler(cycle, options, shardCount);
  for (const flat of proposals) settler.verify(flat);
  return settler.finish();
}
