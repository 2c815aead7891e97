import { type Coordinator, decodeJson, latchSequence, zkPaths } from '../coordination/index.js';

/**
 * The leader's gRPC address from the `/leader` latch (the lowest sequence leads), or null when
 * there is none. An agent started with --zk tries it before any fixed --scheduler address.
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
