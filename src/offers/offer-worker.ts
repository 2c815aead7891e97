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
 * Proposals flattened into one Int32Array (cheap to send back): for each placement
 * `task, offer, portCount, ...ports`.
 */
export function encodeProposals(
  tasks: readonly number[],
  offers: readonly number[],
  ports: readonly (readonly number[])[],
): Int32Array {
  const size = tasks.reduce((n, _, i) => n + 3 + ports[i]!.length, 0);
  const out = new Int32Array(size);
  let k = 0;
  tasks.forEach((t, i) => {
    const p = ports[i]!;
    out[k++] = t;
    out[k++] = offers[i]!;
    out[k++] = p.length;
    out.set(p, k);
    k += p.length;
  });
  return out;
}

/** Matches one shard. Pure: the result depends only on the job. */
export default function matchShard(job: ShardJob): Int32Array {
  const pipeline = new MatchPipeline(job.snap, job.options, job.seed);
  const outcome = pipeline.run(job.tasks, job.offers);
  return encodeProposals(outcome.tasks, outcome.offers, outcome.ports);
}
