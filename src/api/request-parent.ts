import type { Deploy, RequestRecord } from '../state/index.js';

/** Singularity's `SingularityRequestParent`. */
export interface RequestParent {
  request: RequestRecord['request'] & { slavePlacement: string };
  state: RequestRecord['state'];
  stateMessage?: string;
  activeDeploy?: Deploy;
  pendingDeploy?: Deploy;
  timestamp: number;
}

/** A request with its deploys, as the APIs answer it (with Singularity's `slave` alias). */
export function toRequestParent(
  record: RequestRecord,
  deploys: { active: Deploy | null; pending: Deploy | null },
): RequestParent {
  const parent: RequestParent = {
    request: { ...record.request, slavePlacement: record.request.agentPlacement },
    state: record.state,
    timestamp: record.timestamp,
  };
  if (record.stateMessage) parent.stateMessage = record.stateMessage;
  if (deploys.active) parent.activeDeploy = deploys.active;
  if (deploys.pending) parent.pendingDeploy = deploys.pending;
  return parent;
}
