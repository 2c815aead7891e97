import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import {
  type Coordinator,
  TreeCache,
  type ZNode,
  decodeJson,
  latchSequence,
  zkPaths,
} from '../coordination/index.js';
import type { ClusterStateView, LeaderView, ReplicaView } from '../api/index.js';
import type { LeadershipStatus } from '../leader/index.js';

const latchSchema = z.object({
  replicaId: z.string(),
  httpAddress: z.string(),
  grpcAddress: z.string(),
});
const replicaSchema = latchSchema.extend({ version: z.string(), startedAt: z.number() });
const termSchema = z.object({ term: z.number(), leaderId: z.string() });

/**
 * Every replica's read view of the cluster, from watched caches of `/leader` and `/replicas`:
 * no ZooKeeper round trip per request, and still an answer (marked STALE) while ZooKeeper is
 * unreachable. A stale view reports no leader: it cannot vouch for one.
 */
export class ClusterView {
  private readonly leaderCache: TreeCache;
  private readonly replicaCache: TreeCache;
  private readonly logger: Logger;
  private readonly decodeErrors: Counter;
  /** `path@mtime` of znodes already logged as undecodable (each is logged once). */
  private readonly reported = new Set<string>();

  constructor(
    private readonly zk: Coordinator,
    private readonly self: { replicaId: string; version: string },
    private readonly leadership: () => LeadershipStatus,
    observe: { logger: Logger; registry: Registry },
  ) {
    // Not the heartbeat: the leader rewrites it every second and the view does not show it;
    // watching it would cost every replica two reads a second on an idle cluster.
    this.leaderCache = new TreeCache(
      zk,
      zkPaths.leaderDir,
      1,
      (path) => path === zkPaths.leaderHeartbeat,
    );
    this.replicaCache = new TreeCache(zk, zkPaths.replicasDir, 1);
    this.logger = observe.logger;
    this.decodeErrors = new Counter({
      name: 'thales_cluster_view_decode_errors_total',
      help: 'Reads of /leader and /replicas znodes skipped because they do not decode',
      registers: [observe.registry],
    });
  }

  /** Starts watching. */
  start(): void {
    this.leaderCache.start();
    this.replicaCache.start();
  }

  /** Stops watching. */
  stop(): void {
    this.leaderCache.stop();
    this.replicaCache.stop();
  }

  /** The cluster state now, as this replica sees it. */
  snapshot(): ClusterStateView {
    const fresh = this.leaderCache.fresh && this.replicaCache.fresh;
    const own = this.leadership();
    const latestTerm = this.latestTerm();
    const leader = fresh ? this.currentLeader(latestTerm) : null;
    return {
      replicaId: this.self.replicaId,
      role: own.role,
      term: own.term ?? latestTerm?.term ?? 0,
      view: fresh ? 'FRESH' : 'STALE',
      leader,
      replicas: this.replicas(leader),
      zookeeper: this.zk.state,
      version: this.self.version,
    };
  }

  private latestTerm(): z.infer<typeof termSchema> | undefined {
    const node = this.leaderCache.get(zkPaths.leaderTerm);
    return node ? this.decode(node, zkPaths.leaderTerm, termSchema) : undefined;
  }

  private currentLeader(term: z.infer<typeof termSchema> | undefined): LeaderView | null {
    const latches = this.leaderCache
      .children(zkPaths.leaderDir)
      .filter(([name]) => !Number.isNaN(latchSequence(name)))
      .sort(([a], [b]) => latchSequence(a) - latchSequence(b));
    const lowest = latches[0];
    if (!lowest) return null;
    const id = this.decode(lowest[1], `${zkPaths.leaderDir}/${lowest[0]}`, latchSchema);
    if (!id) return null;
    return { ...id, term: term && term.leaderId === id.replicaId ? term.term : 0 };
  }

  /** Decodes a cached znode; one that does not decode is counted, logged once, skipped. */
  private decode<T>(node: ZNode, path: string, schema: z.ZodType<T>): T | undefined {
    try {
      return decodeJson(node.data, path, schema);
    } catch (err) {
      this.decodeErrors.inc();
      const key = `${path}@${node.mtime}`;
      if (!this.reported.has(key)) {
        this.reported.add(key);
        this.logger.warn({ err, path }, 'cluster view: znode does not decode; skipped');
      }
      return undefined;
    }
  }

  private replicas(leader: LeaderView | null): ReplicaView[] {
    const out: ReplicaView[] = [];
    for (const [name, node] of this.replicaCache.children(zkPaths.replicasDir)) {
      const r = this.decode(node, `${zkPaths.replicasDir}/${name}`, replicaSchema);
      if (!r) continue;
      out.push({ ...r, role: leader?.replicaId === r.replicaId ? 'LEADER' : 'FOLLOWER' });
    }
    return out;
  }
}
