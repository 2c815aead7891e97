/**
 * Znode paths of the desired and actual state (DESIGN.md, "ZooKeeper layout"), relative to
 * the chroot. Every growing collection is sharded by request id.
 */
export type DeployKind = 'active' | 'pending' | 'history';

export const statePaths = {
  requestsDir: '/requests',
  request: (requestId: string) => `/requests/${requestId}`,
  deploysRoot: '/deploys',
  /** Everything of one request's deploys. */
  deployRoot: (requestId: string) => `/deploys/${requestId}`,
  deployDir: (requestId: string, kind: DeployKind) => `/deploys/${requestId}/${kind}`,
  deploy: (requestId: string, kind: DeployKind, deployId: string) =>
    `/deploys/${requestId}/${kind}/${deployId}`,
  /** The progress of the request's deploy or bounce in progress (or of its last bounce). */
  deployProgress: (requestId: string) => `/deploys/${requestId}/progress`,
  tasksActiveRoot: '/tasks/active',
  tasksActiveDir: (requestId: string) => `/tasks/active/${requestId}`,
  taskActive: (requestId: string, taskId: string) => `/tasks/active/${requestId}/${taskId}`,
  tasksHistoryRoot: '/tasks/history',
  tasksHistoryDir: (requestId: string) => `/tasks/history/${requestId}`,
  taskHistory: (requestId: string, taskId: string) => `/tasks/history/${requestId}/${taskId}`,
  intentsDir: (kind: IntentKind) => `/intents/${kind}`,
  intent: (kind: IntentKind, id: string) => `/intents/${kind}/${id}`,
  agentsDir: '/agents',
  agent: (agentId: string) => `/agents/${agentId}`,
} as const;

/** Commands any replica writes for the leader to drain. */
export type IntentKind = 'kill-task' | 'deploy-cancel' | 'deploy-advance' | 'bounce';

/** Directories that must exist before any replica writes children into them. */
export const STATE_DIRS = [
  statePaths.requestsDir,
  statePaths.deploysRoot,
  statePaths.tasksActiveRoot,
  statePaths.tasksHistoryRoot,
  statePaths.intentsDir('kill-task'),
  statePaths.intentsDir('deploy-cancel'),
  statePaths.intentsDir('deploy-advance'),
  statePaths.intentsDir('bounce'),
  statePaths.agentsDir,
] as const;
