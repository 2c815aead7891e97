/**
 * The Piscina driver. One cycle on the pool:
 *
 * 1. validate and encode once on the main thread, in one pass over the tasks (typed arrays over
 *    SharedArrayBuffers, so workers read the snapshot in place instead of receiving a clone);
 * 2. split the offers into disjoint shards (whole racks or hosts) and deal the tasks to them;
 * 3. each worker runs the ordinary pipeline on its shard and proposes placements;
 * 4. the main thread re-checks every proposal against the global state, in matching order,
 *    and commits only those still valid (assignment-verifier.ts);
 * 5. a second pass on the main thread places the leftovers (tasks whose shard had no room,
 *    or whose proposal was refused) over all offers, then explains what is still pending.
 *
 * The pool is an accelerator, never a source of truth: step 4 is why no agent can be
 * over-committed whatever a worker returns.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { acceptProposal } from './assignment-verifier.js';
import type { EncodedSnapshot } from './compact-encoding.js';
import { MatchPipeline } from './match-pipeline.js';
import { allOffers, matchOffers } from './match-offers.js';
import { toMatchResult } from './match-result.js';
import {
  resolveMatchOptions,
  type MatchInput,
  type MatchOptions,
  type MatchResult,
  type ResolvedMatchOptions,
} from './offer-model.js';
import { validateMatchOptions, validateOffers } from './offer-validation.js';
import type { ShardJob } from './offer-worker.js';
import { deriveSeed } from './seeded-random.js';
import { PlacementLog, RECORD_HEADER } from './placement-log.js';
import { planShards } from './shard-planner.js';
import { encodeCycle, type EncodedCycle } from './snapshot-encoder.js';

/**
 * Below this many pending tasks the pool is skipped and the cycle runs on the calling thread:
 * encoding is shared, but posting to workers, the verification pass and the merge cost more
 * than the parallel part saves. 500 is the crossover `npm run bench -- offers` measured on
 * its least loaded run with the final code, and the median of five runs (500 to 4000 under
 * load; 2 cores — see docs/benchmarks.md, "offers").
 */
export const DEFAULT_MIN_TASKS_FOR_POOL = 500;

/** How to build an {@link OfferMatcherPool}. */
export interface OfferMatcherPoolOptions {
  /** Worker threads, and so shards. Defaults to the available cores. */
  readonly threads?: number;
  /** Inputs with fewer tasks run on the calling thread. Defaults to the measured crossover. */
  readonly minTasksForPool?: number;
  /** Worker entry; defaults to the compiled offer-worker.js (see resolveWorkerFile). */
  readonly workerFile?: string;
}

/**
 * Where the worker entry is. Piscina starts plain Node worker threads, which cannot load
 * TypeScript, so the worker must be the compiled .js. From the build (dist/src/offers/*.js)
 * it is the sibling file. When this module itself runs from TypeScript sources (vitest, tsx),
 * the sibling would be a .ts, so use the build output of the same repository instead:
 * <repo>/dist/src/offers/offer-worker.js, which `npm test` and `npm run bench` build first.
 */
export function resolveWorkerFile(moduleUrl: string = import.meta.url): string {
  const here = fileURLToPath(moduleUrl);
  const dir = path.dirname(here);
  const sibling = path.join(dir, 'offer-worker.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = path.resolve(dir, '..', '..', 'dist', 'src', 'offers', 'offer-worker.js');
  if (!existsSync(built)) {
    throw new Error(`offer worker not found at ${built}: run \`npm run build\` first`);
  }
  return built;
}

/** A pool of matcher workers sized to the cores. Call {@link close} when done. */
export class OfferMatcherPool {
  private readonly piscina: Piscina<ShardJob, Int32Array>;
  /** Worker threads and shards per cycle. */
  readonly threads: number;
  private readonly minTasksForPool: number;

  /** Starts the workers (they load the worker module once, not per cycle). */
  constructor(options: OfferMatcherPoolOptions = {}) {
    this.threads = Math.max(1, options.threads ?? os.availableParallelism());
    this.minTasksForPool = options.minTasksForPool ?? DEFAULT_MIN_TASKS_FOR_POOL;
    this.piscina = new Piscina<ShardJob, Int32Array>({
      filename: options.workerFile ?? resolveWorkerFile(),
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000,
    });
  }

  /**
   * Matches like `matchOffers`: same validation and error, a valid result, deterministic for
   * the same input, options and thread count. Small inputs run on the calling thread.
   */
  async match(input: MatchInput, options: MatchOptions = {}): Promise<MatchResult> {
    validateMatchOptions(options);
    const shaped = validateOffers(input);
    if (shaped.tasks.length < this.minTasksForPool) return matchOffers(shaped, options);
    const resolved = resolveMatchOptions(options);
    // Validates each task as it reads it (one pass over the task objects): bad input throws
    // here, before any work is dispatched.
    const cycle = encodeCycle(shaped, resolved);
    const proposals = await this.runShards(cycle.snap, resolved);
    return settleCycle(cycle, resolved, proposals, this.threads);
  }

  private runShards(snap: EncodedSnapshot, options: ResolvedMatchOptions): Promise<Int32Array[]> {
    const plan = planShards(snap, this.threads);
    return Promise.all(
      plan.offers.map((offers, s) =>
        this.piscina.run({
          snap,
          offers,
          tasks: plan.tasks[s]!,
          options,
          seed: deriveSeed(options.seed, s),
        }),
      ),
    );
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.piscina.close();
  }
}

/** Tasks of `order` not marked placed, in that order. */
function unplacedOf(order: Int32Array, placedMark: Uint8Array, placed: number): Int32Array {
  const left = new Int32Array(order.length - placed);
  let k = 0;
  for (let i = 0; i < order.length; i++) if (placedMark[order[i]!] === 0) left[k++] = order[i]!;
  return left;
}

/**
 * Steps 4 and 5: verify and commit the proposals, place leftovers on the main thread, explain
 * what is still pending. Exported for tests that feed it hostile proposals.
 */
export function settleCycle(
  { snap, refs }: EncodedCycle,
  options: ResolvedMatchOptions,
  proposals: Int32Array[],
  shardCount: number,
): MatchResult {
  const pipeline = new MatchPipeline(snap, options, deriveSeed(options.seed, shardCount));
  const placedMark = new Uint8Array(snap.taskCount);
  const placed = new PlacementLog(snap.taskCount);
  // Shard by shard, each in its matching order. Shards own disjoint hosts (and racks when
  // there are enough), so proposals of different shards almost never compete; when they do,
  // the lower shard wins, deterministically, and the other task goes to the second pass.
  for (const flat of proposals) {
    for (let k = 0; k + 2 < flat.length;) {
      const t = flat[k]!;
      const o = flat[k + 1]!;
      const n = Math.max(0, flat[k + 2]!);
      if (acceptProposal(snap, pipeline, placedMark, t, o, flat, k + RECORD_HEADER, n)) {
        placed.copy(t, o, flat, k + RECORD_HEADER, n);
      }
      k += RECORD_HEADER + n;
    }
  }
  const leftovers = unplacedOf(snap.taskOrder, placedMark, placed.count);
  if (leftovers.length === 0) return toMatchResult(refs, placed, [], new Map());
  const candidates = allOffers(snap.offerCount);
  const second = pipeline.run(leftovers, candidates, placed);
  const reasons = pipeline.explain(second.unplaced, candidates);
  return toMatchResult(refs, placed, second.unplaced, reasons);
}
