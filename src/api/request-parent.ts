import {
  type Deploy,
  type DeployProgress,
  type DeployResult,
  type FieldWarning,
  type PendingDeployStateView,
  type RequestRecord,
  toPendingDeployState,
} from '../state/index.js';

/** Singularity's `SingularityRequestParent`. */
export interface RequestParent {
  request: RequestRecord['request'] & { slavePlacement: string };
  state: RequestRecord['state'];
  stateMessage?: string;
  activeDeploy?: Deploy;
  pendingDeploy?: Deploy;
  /** The deploy (or bounce) in progress: its step and instance counts. */
  pendingDeployState?: PendingDeployStateView;
  /** The request's last bounce once it ended (its result), until a deploy replaces it. */
  lastBounce?: {
    deployMarker: PendingDeployStateView['deployMarker'];
    deployResult: DeployResult;
  };
  timestamp: number;
  /** Fields of the write just answered that were accepted but do not take effect yet. */
  warnings?: FieldWarning[];
}

/** A request with its deploys, as the APIs answer it (with Singularity's `slave` alias). */
export function toRequestParent(
  record: RequestRecord,
  deploys: { active: Deploy | null; pending: Deploy | null },
  progress?: DeployProgress | null,
): RequestParent {
  const parent: RequestParent = {
    request: { ...record.request, slavePlacement: record.request.agentPlacement },
    state: record.state,
    timestamp: record.timestamp,
  };
  if (record.stateMessage) parent.stateMessage = record.stateMessage;
  if (deploys.active) parent.activeDeploy = deploys.active;
  if (deploys.pending) parent.pendingDeploy = deploys.pending;
  if (progress && progress.phase !== 'DONE')
    parent.pendingDeployState = toPendingDeployState(progress);
  // A bounce keeps its ended progress (a deploy's result goes to the deploy instead).
  if (progress?.phase === 'DONE' && progress.kind === 'BOUNCE' && progress.deployResult) {
    parent.lastBounce = {
      deployMarker: toPendingDeployState(progress).deployMarker,
      deployResult: progress.deployResult,
    };
  }
  return parent;
}
