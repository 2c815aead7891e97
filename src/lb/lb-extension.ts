import type { ReplicaExtension, ReplicaExtensionFactory } from '../scheduler/index.js';
import { LbApi } from './lb-api.js';
import { addLbGrpcService } from './lb-grpc-service.js';
import { makeLbRouter } from './lb-http-routes.js';
import { LbManager } from './lb-manager.js';
import { LbRequestStore } from './lb-request-store.js';
import { LbSchedulerGateway } from './lb-scheduler-gateway.js';

/** Options of the load-balancer extension; defaults suit production. */
export interface LbExtensionOptions {
  agentTimeoutMs?: number;
  agentGraceMs?: number;
}

/**
 * The load-balancer manager as a replica extension: the leader-only {@link LbManager}, the
 * `LoadBalancer` gRPC service and the `/api/lb` HTTP routes on every replica.
 * Environment overrides (used by tests): THALES_LB_AGENT_TIMEOUT_MS, THALES_LB_AGENT_GRACE_MS.
 */
export function makeLbExtensionFactory(options: LbExtensionOptions = {}): ReplicaExtensionFactory {
  return (ctx): ReplicaExtension => {
    const store = new LbRequestStore(ctx.zk);
    const manager = new LbManager(ctx.zk, store, {
      agentTimeoutMs: options.agentTimeoutMs ?? envMs('THALES_LB_AGENT_TIMEOUT_MS', 15_000),
      agentGraceMs: options.agentGraceMs ?? envMs('THALES_LB_AGENT_GRACE_MS', 10_000),
      logger: ctx.logger,
      registry: ctx.registry,
    });
    const api = new LbApi(store);
    // The scheduler's deploy driver and kill paths reach the manager through this view.
    if (ctx.loadBalancer) ctx.loadBalancer.current = new LbSchedulerGateway(manager, api, store);
    const logger = ctx.logger.child({ component: 'lb-api' });
    return {
      leaderServices: [manager],
      routers: [makeLbRouter(api)],
      addGrpcServices: (server) => addLbGrpcService(server, { api, manager, zk: ctx.zk, logger }),
    };
  };
}

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
