/**
 * Chooses the offer for one task among the candidates. Two modes:
 *
 * - `full`: the O(tasks × offers) loop Singularity runs: check and score every offer.
 * - `sample` (default): like Nomad's limit iterator, walk the candidates in a seeded shuffled
 *   order from a rolling cursor, score the first `sampleSize` feasible offers and keep the
 *   best. When `maxScan` offers yield nothing feasible, the rest is scanned so a task is never
 *   left pending while a feasible offer exists. Two bookkeeping tricks keep that cheap on a
 *   busy cluster: offers too small for the smallest task of the cycle leave the candidate
 *   list, and a task "shape" that found no offer is remembered, since in one cycle resources
 *   only shrink and counts only grow (every rule is monotone), so the same shape fails again;
 *   so is a resource need no offer could meet, which rules out every larger need too.
 */
import { SLOTS, type EncodedSnapshot } from './compact-encoding.js';
import { FIRST_RULE_STAGE } from './feasibility.js';
import type { MatchState } from './match-state.js';
import type { ResolvedMatchOptions } from './offer-model.js';
import type { OfferScorer } from './offer-scorer.js';
import { taskShapeOf } from './task-shape.js';
import { shuffleInPlace, type SeededRandom } from './seeded-random.js';

/** First rejecting reason code for (t, o), or 0 when feasible. */
export type RejectionOf = (t: number, o: number) => number;

/** Most hopeless needs remembered; the list is checked linearly. */
const MAX_HOPELESS_NEEDS = 32;

/** Scores differing by less than this are a tie, broken at random. */
const TIE = 1e-12;

/** Per-task offer choice over a fixed set of candidate offers. */
export class OfferSelector {
  /** Candidates still worth checking, in shuffled order; [0, aliveCount) is live. */
  private readonly alive: Int32Array;
  private readonly position: Int32Array;
  private aliveCount: number;
  private cursor = 0;
  private readonly minNeed: Float64Array;
  /** Task shapes known to fit nowhere this cycle. */
  private readonly hopeless = new Set<string>();
  /** Resource needs no offer could meet this cycle (so neither can any larger need). */
  private readonly hopelessNeeds: Float64Array[] = [];
  private readonly sampling: boolean;

  /**
   * @param candidates offer indices this selector may hand out (a pool shard, or all)
   * @param tasks the tasks it will be asked about, for the smallest-need pruning bound
   */
  constructor(
    private readonly snap: EncodedSnapshot,
    private readonly state: MatchState,
    private readonly rejectionOf: RejectionOf,
    private readonly score: OfferScorer,
    private readonly rng: SeededRandom,
    private readonly options: ResolvedMatchOptions,
    candidates: Int32Array,
    tasks: Int32Array,
  ) {
    this.alive = candidates.slice();
    this.sampling = options.selection === 'sample' && candidates.length > options.fullScanBelow;
    if (this.sampling) shuffleInPlace(this.alive, rng);
    this.aliveCount = this.alive.length;
    this.position = new Int32Array(snap.offerCount).fill(-1);
    this.alive.forEach((o, i) => (this.position[o] = i));
    this.minNeed = new Float64Array(SLOTS).fill(Infinity);
    for (const t of tasks) {
      for (let s = 0; s < SLOTS; s++) {
        this.minNeed[s] = Math.min(this.minNeed[s]!, snap.taskNeed[t * SLOTS + s]!);
      }
    }
  }

  /** The chosen offer for task t, or -1 when no candidate is feasible. */
  select(t: number): number {
    if (!this.sampling) return this.scan(t, 0, this.aliveCount).best;
    // Cheap test first: needs at least those of a task no offer had the resources for.
    if (this.dominatesHopelessNeed(t)) return -1;
    const n = this.aliveCount;
    const window = Math.min(n, this.options.maxScan);
    const sampled = this.scan(t, 0, window, this.options.sampleSize);
    const best =
      sampled.best >= 0 || window === n
        ? sampled.best
        : this.scanRest(t, window, n, sampled.resourcesFit);
    // Rolling start: the next task looks at the next offers, spreading the checking work.
    this.cursor = n === 0 ? 0 : (this.cursor + sampled.scanned) % n;
    return best;
  }

  /** The sample came back empty: scan everything left, unless this task is known hopeless. */
  /**
   * `windowResourcesFit`: whether some offer of the sample window had the resources (and only
   * failed a rule); then the need is not hopeless, whatever the rest of the scan finds.
   */
  private scanRest(t: number, from: number, n: number, windowResourcesFit: boolean): number {
    const shape = taskShapeOf(this.snap, t);
    if (this.hopeless.has(shape)) return -1;
    const rest = this.scan(t, from, n);
    if (rest.best < 0) {
      this.hopeless.add(shape);
      if (!rest.resourcesFit && !windowResourcesFit) this.addHopelessNeed(t);
    }
    return rest.best;
  }

  /** Whether task t needs at least as much of every resource as some hopeless need. */
  private dominatesHopelessNeed(t: number): boolean {
    const need = this.snap.taskNeed;
    const b = t * SLOTS;
    for (const h of this.hopelessNeeds) {
      if (
        need[b]! >= h[0]! &&
        need[b + 1]! >= h[1]! &&
        need[b + 2]! >= h[2]! &&
        need[b + 3]! >= h[3]!
      ) {
        return true;
      }
    }
    return false;
  }

  /** Remembers t's need as fitting no offer; kept short, as the list is scanned per task. */
  private addHopelessNeed(t: number): void {
    if (this.hopelessNeeds.length >= MAX_HOPELESS_NEEDS) return;
    this.hopelessNeeds.push(this.snap.taskNeed.slice(t * SLOTS, t * SLOTS + SLOTS));
  }

  /**
   * Walks alive[(cursor + from) .. (cursor + to)) (mod aliveCount) and keeps the best feasible
   * offer, stopping after `limit` feasible ones.
   */
  private scan(t: number, from: number, to: number, limit = Infinity) {
    const n = this.aliveCount;
    let best = -1;
    let bestScore = -Infinity;
    let ties = 0;
    let feasible = 0;
    let resourcesFit = false;
    let i = from;
    for (; i < to && feasible < limit; i++) {
      const o = this.alive[(this.cursor + i) % n]!;
      const reason = this.rejectionOf(t, o);
      if (reason === 0 || reason > FIRST_RULE_STAGE) resourcesFit = true;
      if (reason !== 0) continue;
      feasible++;
      const s = this.score(t, o);
      if (s > bestScore + TIE) {
        best = o;
        bestScore = s;
        ties = 1;
      } else if (s >= bestScore - TIE && this.rng.int(++ties) === 0) {
        best = o; // reservoir sampling: each of the tied offers is kept with equal chance
      }
    }
    return { best, scanned: i - from, resourcesFit };
  }

  /** Drops offer o from the candidates once even the smallest task of the cycle cannot fit. */
  onCommitted(o: number): void {
    const free = this.state.free;
    for (let s = 0; s < SLOTS; s++) {
      if (free[o * SLOTS + s]! + 1e-9 < this.minNeed[s]!) {
        this.remove(o);
        return;
      }
    }
  }

  private remove(o: number): void {
    const i = this.position[o]!;
    if (i < 0 || !this.sampling) return; // full mode keeps every offer, like the naive loop
    const last = this.alive[--this.aliveCount]!;
    this.alive[i] = last;
    this.position[last] = i;
    this.position[o] = -1;
  }
}
