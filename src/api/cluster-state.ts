/** The leader as this replica sees it. */
export interface LeaderView {
  replicaId: string;
  httpAddress: string;
  grpcAddress: string;
  /** 0 while the latch holder is still establishing its term. */
  term: number;
}

/** One replica in the cluster view. */
export interface ReplicaView {
  replicaId: string;
  role: 'LEADER' | 'FOLLOWER';
  version: string;
  startedAt: number;
  httpAddress: string;
  grpcAddress: string;
}

/** The answer of `GET /api/state` and `Scheduler.GetState`. */
export interface ClusterStateView {
  replicaId: string;
  /** This replica's own role (a PAUSED leader lost its connection). */
  role: 'LEADER' | 'FOLLOWER' | 'PAUSED';
  term: number;
  view: 'FRESH' | 'STALE';
  leader: LeaderView | null;
  replicas: ReplicaView[];
  zookeeper: string;
  version: string;
}
