/**
 * Piscina worker entry: runs the pipeline on one shard and returns its proposals. Loaded from
 * the compiled dist/src/offers/offer-worker.js (see offer-pool.ts for why).
 */
import type { EncodedSnapshot } from './compact-encoding.js';
import { MatchPipeline } from './match-pipeline.js';
import type { ResolvedMatchOptions } from './offer-model.js';

/** What the driver sends: the shared snapshot (by reference) and this shard's indices. */
export interface ShardJob {
  readonly snap: EncodedSnapshot;
  readonly offers: Int32Array;
  readonly tasks: Int32Array;
  readonly options: ResolvedMatchOptions;
  readonly seed: number;
}

/**
 * Matches one shard and returns its proposals in the placement log's format
 * (`task, offer, portCount, ...ports` each). Pure: the result depends only on the job.
 */
export default function matchShard(job: ShardJob): Int32Array {
  const pipeline = new MatchPipeline(job.snap, job.options, job.seed, job.tasks);
  return pipeline.run(job.tasks, job.offers).placed.toArray();
}
