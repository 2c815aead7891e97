import { type Coordinator, decodeJson, latchSequence, zkPaths } from '../coordination/index.js';

/**
 * The gRPC address of the leader, read from the `/leader` latch (the lowest sequence leads),
 * or null when there is none. Followers use it to send lb-agents to the leader.
 */
export async function readLeaderGrpcAddress(zk: Coordinator): Promise<string | null> {
  const names = (await zk.children(zkPaths.leaderDir))
    .filter((n) => Number.isFinite(latchSequence(n)))
    .sort((a, b) => latchSequence(a) - latchSequence(b));
  const first = names[0];
  if (!first) return null;
  const node = await zk.getOrNull(`${zkPaths.leaderDir}/${first}`);
  if (!node) return null;
  const latch = decodeJson<{ grpcAddress?: string }>(node.data, first);
  return latch.grpcAddress ?? null;
}
