import { z } from 'zod';
import {
  type Coordinator,
  type Fence,
  ZkError,
  decodeJson,
  encodeJson,
  zkPaths,
} from '../coordination/index.js';
import { Backoff } from '../runtime/index.js';

const termSchema = z.object({ term: z.number().int().nonnegative(), leaderId: z.string() });

/** The content of `/leader/term`. */
export type TermRecord = z.infer<typeof termSchema>;

/** Reads `/leader/term` (0 if no leader ever was). */
export async function readTerm(zk: Coordinator): Promise<TermRecord & { version: number }> {
  const node = await zk.getOrNull(zkPaths.leaderTerm);
  if (!node) return { term: 0, leaderId: '', version: -1 };
  return { ...decodeJson(node.data, zkPaths.leaderTerm, termSchema), version: node.version };
}

/**
 * Increments the term by compare-and-set, fenced by the new leader's latch znode: a replica
 * that lost its latch meanwhile cannot claim a term. Returns the new term. A lost race with
 * another writer is retried under the `zookeeper` policy; past it, the error goes to the
 * caller (whose establish then fails and rejoins the election).
 */
export async function incrementTerm(
  zk: Coordinator,
  fence: Fence,
  leaderId: string,
): Promise<number> {
  const backoff = new Backoff('zookeeper');
  for (;;) {
    const current = await readTerm(zk);
    const term = current.term + 1;
    const data = encodeJson({ term, leaderId, at: Date.now() });
    try {
      await zk.multi(
        current.version < 0
          ? [{ op: 'create', path: zkPaths.leaderTerm, data }]
          : [{ op: 'set', path: zkPaths.leaderTerm, data, version: current.version }],
        fence,
      );
      return term;
    } catch (err) {
      // Lost a race with another writer of the term: read again and retry.
      const lostRace =
        err instanceof ZkError && (err.code === 'BAD_VERSION' || err.code === 'NODE_EXISTS');
      if (!lostRace || backoff.exhausted) throw err;
      await new Promise((resolve) => setTimeout(resolve, backoff.next()));
    }
  }
}
