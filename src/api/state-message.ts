import type { ClusterState } from '../gen/thales/v1/ClusterState.js';
import type { ClusterStateView } from './cluster-state.js';

/** The protobuf form of the cluster state (same content as the JSON view). */
export function toClusterStateMessage(view: ClusterStateView): ClusterState {
  return {
    replicaId: view.replicaId,
    role: view.role,
    term: view.term,
    view: view.view,
    leader: view.leader,
    replicas: view.replicas,
    zookeeper: view.zookeeper,
    version: view.version,
  };
}
