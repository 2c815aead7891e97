/**
 * Where a daemon looks for the scheduler leader. The reconnecting stream client asks for
 * candidates before each connection and, when the source can say so, hears at once that the
 * election changed — a fixed list cannot, ZooKeeper's `/leader` latch can (see
 * `src/daemon`, which may import coordination; this module may not).
 */
export interface LeaderDiscovery {
  /** Candidate scheduler gRPC addresses, the elected leader first when known. */
  addresses(): Promise<string[]>;
  /**
   * Calls `listener` with the elected leader's gRPC address each time the election changes
   * (`null` while nobody holds it); returns a function that stops the calls. Absent when
   * the source cannot tell.
   */
  watchLeader?(listener: (address: string | null) => void): () => void;
}

/** Discovery from a fixed list of replicas (`--scheduler a:1,b:2`): no election news. */
export function fixedLeaderDiscovery(addresses: readonly string[]): LeaderDiscovery {
  const list = [...addresses];
  return { addresses: () => Promise.resolve(list) };
}
