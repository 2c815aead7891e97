// A stand-in for offer-worker.js in pool tests: every shard fails, shard 0 last, so the pool
// sees shard 1's failure while it is still waiting for shard 0. The order is a handshake
// between the two worker threads over a BroadcastChannel, not a delay: shard 0 announces
// itself until it hears that shard 1 failed; shard 1 fails once it has heard shard 0.
import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';

/** deriveSeed of src/offers/seeded-random.ts, to recognise shard 0 by its seed. */
function deriveSeed(seed, stream) {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const channel = new BroadcastChannel('thales-failing-worker');
const heard = new Set();
channel.onmessage = (e) => heard.add(e.data);
channel.unref();

/** Polls until `message` was heard (a condition, checked every 5 ms), doing `meanwhile` each time. */
async function until(message, meanwhile = () => {}) {
  while (!heard.has(message)) {
    meanwhile();
    await sleep(5);
  }
}

export default async function failingShard(job) {
  if (job.seed === deriveSeed(job.options.seed, 0)) {
    // Re-announced until heard: shard 1's thread may not have its channel open yet.
    await until('shard 1 failed', () => channel.postMessage('shard 0 waiting'));
  } else {
    await until('shard 0 waiting');
    channel.postMessage('shard 1 failed');
  }
  throw new Error(`worker failed on a shard of ${job.tasks.length} tasks`);
}
