/**
 * The Piscina driver. One cycle on the pool:
 *
 * 1. validate and encode once on the main thread, in one pass over the tasks (typed arrays over
 *    SharedArrayBuffers, so workers read the snapshot in place instead of receiving a clone);
 * 2. split the offers into disjoint shards (whole racks or hosts) and deal the tasks to them;
 * 3. each worker runs the ordinary pipeline on its shard and proposes placements;
 * 4. the main thread re-checks every proposal against the global state, shard by shard in
 *    matching order, as soon as a shard and those before it are in, and commits only those
 *    still valid (cycle-settler.ts, assignment-verifier.ts);
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
import { CycleSettler } from './cycle-settler.js';
import type { EncodedSnapshot } from './compact-encoding.js';
import { matchOffers } from './match-offers.js';
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
import { planShards } from './shard-planner.js';
import { encodeCycle } from './snapshot-encoder.js';

/**
 * Below this many pending tasks the pool is skipped and the cycle runs on the calling thread:
 * encoding is shared, but posting to workers, the verification pass and the merge cost more
 * than the parallel part saves. The value is the crossover the offers bench measures
 * (docs/benchmarks.md, "offers", has the runs behind it).
 */
export const DEFAULT_MIN_TASKS_FOR_POOL = 2_000;

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

/**
 * Where the wall time of the last pooled cycle went, in milliseconds. `serialMs` is the time
 * the calling thread was busy on it: `encodeMs` (validating and encoding, before dispatch) plus
 * `settleMs` (planning and posting the shards, verifying each, building the assignment
 * objects, the second pass). `matchMs` is the rest, when it only waited for workers. No
 * number of threads shortens the serial part.
 */
export interface CycleTimings {
  readonly encodeMs: number;
  readonly matchMs: number;
  readonly settleMs: number;
  readonly serialMs: number;
}

/** A pool of matcher workers sized to the cores. Call {@link close} when done. */
export class OfferMatcherPool {
  /** Timings of the last cycle that went to the workers (undefined before the first). */
  lastCycle: CycleTimings | undefined;
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
    const start = performance.now();
    const resolved = resolveMatchOptions(options);
    // Validates each task as it reads it (one pass over the task objects): bad input throws
    // here, before any work is dispatched.
    const cycle = encodeCycle(shaped, resolved);
    const encodeMs = performance.now() - start;
    const shards = this.runShards(cycle.snap, resolved);
    // Built while the workers match. Each shard is verified once it and all before it are in.
    const settler = new CycleSettler(cycle, resolved, this.threads);
    let waitMs = 0;
    for (const shard of shards) {
      const waitFrom = performance.now();
      const flat = await shard;
      waitMs += performance.now() - waitFrom;
      settler.verify(flat);
    }
    const result = settler.finish();
    const settleMs = performance.now() - start - encodeMs - waitMs;
    this.lastCycle = { encodeMs, matchMs: waitMs, settleMs, serialMs: encodeMs + settleMs };
    return result;
  }

  /** Dispatches one job per shard; the promises are in shard order. */
  private runShards(snap: EncodedSnapshot, options: ResolvedMatchOptions): Promise<Int32Array>[] {
    const plan = planShards(snap, this.threads);
    const shards = plan.offers.map((offers, s) =>
      this.piscina.run({
        snap,
        offers,
        tasks: plan.tasks[s]!,
        options,
        seed: deriveSeed(options.seed, s),
      }),
    );
    // A later shard may fail while an earlier one is awaited: mark every promise handled now
    // (the loop still awaits each and throws the failure) so Node does not see it unhandled.
    for (const shard of shards) shard.catch(() => undefined);
    return shards;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.piscina.close();
  }
}
