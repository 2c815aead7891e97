/**
 * Every znode path Thales uses, relative to the chroot (`/thales` by default).
 * Collections that grow are sharded by request id (DESIGN.md, "ZooKeeper layout").
 */
export const zkPaths = {
  leaderDir: '/leader',
  leaderLatchPrefix: '/leader/latch-',
  leaderTerm: '/leader/term',
  leaderHeartbeat: '/leader/heartbeat',
  replicasDir: '/replicas',
  replica: (replicaId: string) => `/replicas/${replicaId}`,
  requestsDir: '/requests',
  request: (requestId: string) => `/requests/${requestId}`,
  deploysDir: (requestId: string) => `/deploys/${requestId}`,
  tasksActiveDir: (requestId: string) => `/tasks/active/${requestId}`,
  taskActive: (requestId: string, taskId: string) => `/tasks/active/${requestId}/${taskId}`,
  tasksHistoryDir: (requestId: string) => `/tasks/history/${requestId}`,
  intentsDir: (kind: string) => `/intents/${kind}`,
  agentsDir: '/agents',
  agent: (agentId: string) => `/agents/${agentId}`,
  lbServicesDir: '/lb/services',
  lbRequestsDir: '/lb/requests',
  lbGroupAgentsDir: (group: string) => `/lb/groups/${group}/agents`,
} as const;

/** The directories created at start so that ephemeral and sequential children can be made. */
export const PERSISTENT_DIRS = [zkPaths.leaderDir, zkPaths.replicasDir] as const;

/** The name of a latch znode's sequence number, e.g. `latch-0000000012` → 12. */
export function latchSequence(name: string): number {
  const match = /^latch-(\d+)$/.exec(name);
  return match ? Number(match[1]) : Number.NaN;
}

/** Validates a chroot: absolute, no trailing slash, simple segments. */
export function isValidChroot(chroot: string): boolean {
  return /^(\/[A-Za-z0-9_.-]+)+$/.test(chroot);
}
