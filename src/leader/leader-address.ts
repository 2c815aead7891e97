import { type Coordinator, decodeJson, latchSequence, zkPaths } from '../coordination/index.js';

/**
 * The gRPC address of the latch holder (the lowest `/leader/latch-*` znode), or null when
 * there is none. Followers send agents and lb-agents there; agents started with `--zk` use it
 * to find the leader.
 */
export async function readLeaderGrpcAddress(zk: Coordinator): Promise<string | null> {
  const names = (await zk.children(zkPaths.leaderDir))
    .filter((n) => Number.isFinite(latchSequence(n)))
    .sort((a, b) => latchSequence(a) - latchSequence(b));
  const first = names[0];
  if (!first) return null;
  const node = await zk.getOrNull(`${zkPaths.leaderDir}/${first}`);
  if (!node) return null;
  return decodeJson<{ grpcAddress?: string }>(node.data, first).grpcAddress ?? null;
}
