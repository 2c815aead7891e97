// A stand-in for offer-worker.js in pool tests: every shard fails, shard 0 last, so the pool
// sees shard 1's failure while it is still waiting for shard 0.
import { setTimeout as sleep } from 'node:timers/promises';

/** deriveSeed of src/offers/seeded-random.ts, to recognise shard 0 by its seed. */
function deriveSeed(seed, stream) {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export default async function failingShard(job) {
  await sleep(job.seed === deriveSeed(job.options.seed, 0) ? 100 : 0);
  throw new Error(`worker failed on a shard of ${job.tasks.length} tasks`);
}
