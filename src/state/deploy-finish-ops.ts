import type { ZkOp } from '../coordination/index.js';
import type { Deploy } from './deploy-model.js';
import { type DeployProgress, writeDeployProgressOp } from './deploy-progress-model.js';
import type { DeployResult } from './deploy-result-model.js';
import { promoteDeployOps } from './deploy-store.js';
import { statePaths } from './state-paths.js';
import { toData } from './zk-json-store.js';

/**
 * The one multi that ends a deploy with its result. SUCCEEDED: the pending deploy becomes
 * active (with its result) and the previous one goes to history. Otherwise the pending deploy
 * goes to history with its result and the previous one stays active. The progress document
 * goes in the same multi. A BOUNCE keeps its ended progress (its result) in place instead.
 */
export function finishDeployOps(
  progress: DeployProgress,
  result: DeployResult,
  pending: Deploy | null,
  previous: Deploy | null,
): ZkOp[] {
  const rid = progress.requestId;
  const ended: DeployProgress = {
    ...progress,
    phase: 'DONE',
    currentDeployState: result.deployState,
    deployResult: result,
    timestamp: result.timestamp,
  };
  if (progress.kind === 'BOUNCE' || !pending) return [writeDeployProgressOp(ended, false)];
  const withResult: Deploy = { ...pending, deployResult: result };
  const ops: ZkOp[] = [{ op: 'remove', path: statePaths.deployProgress(rid), version: -1 }];
  if (result.deployState === 'SUCCEEDED')
    return [...ops, ...promoteDeployOps(withResult, previous)];
  const hist = statePaths.deploy(rid, 'history', pending.id);
  return [
    ...ops,
    { op: 'remove', path: statePaths.deploy(rid, 'pending', pending.id), version: -1 },
    { op: 'create', path: hist, data: toData(withResult, hist) },
  ];
}
