/**
 * How a request's tasks map onto the load balancer: the service of a deploy (Singularity's
 * fields: service id = request id or `loadBalancerServiceIdOverride`, base path, groups,
 * options) and the upstream of a task (`host:port` of the deploy's `loadBalancerPortIndex`).
 * Pure; the deploy driver and the LB-first kill paths use it.
 */
import { type LbPresence, type LbRequestTouch, lbPresence } from '../deploys/index.js';
import { type Deploy, type Task, deploySettings, isTerminal } from '../state/index.js';
import type { GatewayService, GatewayServiceState } from './load-balancer-gateway.js';

/** The load-balancer service id of a request's deploy. */
export function lbServiceIdOf(deploy: Deploy): string {
  return deploy.loadBalancerServiceIdOverride ?? deploy.requestId;
}

/** The service a deploy's load-balancer requests carry; undefined without a base path or groups. */
export function lbServiceOf(deploy: Deploy): GatewayService | undefined {
  if (!deploy.serviceBasePath || !deploy.loadBalancerGroups?.length) return undefined;
  const options: Record<string, string> = {};
  for (const [k, v] of Object.entries(deploy.loadBalancerOptions ?? {})) options[k] = String(v);
  const service: GatewayService = {
    serviceId: lbServiceIdOf(deploy),
    owners: [],
    basePath: deploy.serviceBasePath,
    additionalPaths: deploy.loadBalancerAdditionalRoutes ?? [],
    groups: deploy.loadBalancerGroups,
    options,
    domains: deploy.loadBalancerDomains ?? [],
  };
  if (deploy.loadBalancerTemplate) service.templateName = deploy.loadBalancerTemplate;
  return service;
}

/** A task's upstream (`host:port` of its deploy's load-balancer port); undefined without one. */
export function upstreamOf(task: Task, deploy: Deploy | undefined): string | undefined {
  const index = deploy ? deploySettings(deploy).loadBalancerPortIndex : 0;
  const port = task.ports[index];
  return port === undefined ? undefined : `${task.host}:${port}`;
}

/**
 * Presence of each task in the service, from the gateway's state: the stored upstreams and
 * the requests since (open ones, failed ones whose revert failed), mapped from upstreams to
 * the tasks that own them.
 */
export function presenceByTask(
  tasks: readonly { task: Task; upstream: string | undefined }[],
  state: GatewayServiceState,
): Map<string, LbPresence> {
  // A port freed by an ended task may be given to a new one on the same host: the upstream
  // is the live task's then, never the ended one's (else the ended task looks routed, the
  // live one not, and removing "the ended one" would take the live one out).
  const byUpstream = new Map<string, string>();
  for (const live of [true, false]) {
    for (const { task, upstream } of tasks) {
      if (!upstream || isTerminal(task.state) === live || byUpstream.has(upstream)) continue;
      byUpstream.set(upstream, task.taskId);
    }
  }
  const ids = (upstreams: readonly string[]): string[] =>
    upstreams.flatMap((u) => {
      const id = byUpstream.get(u);
      return id ? [id] : [];
    });
  const stored = new Set(ids([...state.upstreams]));
  const touches: LbRequestTouch[] = state.touches.map((t) => ({
    state: t.state,
    revertFailed: t.revertFailed,
    add: ids(t.add),
    remove: ids(t.remove),
  }));
  const out = new Map<string, LbPresence>();
  for (const { task } of tasks) out.set(task.taskId, lbPresence(task.taskId, stored, touches));
  return out;
}
