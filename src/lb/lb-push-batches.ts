import type { LbGroupUpdate } from '../gen/thales/v1/LbGroupUpdate.js';
import type { LbServiceConfig } from '../gen/thales/v1/LbServiceConfig.js';
import type { LbAgentSession } from './lb-agent-session.js';
import type { LbServiceRecord } from './lb-model.js';
import { toServiceConfig } from './lb-proto-mapping.js';
import type { LbTarget } from './lb-request-state-machine.js';

/** What a push needs to know about a request being applied. */
export interface PushableRequest {
  serviceId: string;
  record: { request: { noValidate: boolean; noReload: boolean } };
  plan: { targets: readonly LbTarget[]; next: LbServiceRecord | null };
}

/** One update for one agent, and the requests it carries. */
export interface AgentPush<R> {
  agentId: string;
  requests: R[];
  update: Omit<LbGroupUpdate, 'nonce'>;
}

/**
 * Groups the services of every ready request into one update per agent (and per
 * noValidate/noReload combination), so each agent validates and reloads once for all of them.
 */
export function groupPushesByAgent<R extends PushableRequest>(ready: readonly R[]): AgentPush<R>[] {
  const pushes = new Map<string, AgentPush<R> & { configs: LbServiceConfig[] }>();
  for (const r of ready) {
    const { noValidate, noReload } = r.record.request;
    for (const t of r.plan.targets) {
      const key = `${t.agentId}|${noValidate}|${noReload}`;
      let p = pushes.get(key);
      if (!p) {
        const configs: LbServiceConfig[] = [];
        p = {
          agentId: t.agentId,
          requests: [],
          configs,
          update: { full: false, services: configs, noValidate, noReload },
        };
        pushes.set(key, p);
      }
      p.configs.push(toServiceConfig(r.serviceId, t.deleted ? null : r.plan.next));
      p.requests.push(r);
    }
  }
  return [...pushes.values()].map(({ agentId, requests, update }) => ({
    agentId,
    requests,
    update,
  }));
}

/**
 * Pushes for agents of the service's groups that were not in a finished round (they joined
 * meanwhile, bootstrapped from `/lb/services` without the change): the stored state now.
 */
export function catchUpPushes(
  r: {
    serviceId: string;
    plan: {
      targets: readonly LbTarget[];
      next: LbServiceRecord | null;
      previous: LbServiceRecord | null;
    };
  },
  stored: LbServiceRecord | null,
  sessions: readonly LbAgentSession[],
): { session: LbAgentSession; update: Omit<LbGroupUpdate, 'nonce'> }[] {
  const targeted = new Set(r.plan.targets.map((t) => t.agentId));
  const groups = new Set([
    ...(r.plan.next?.service.groups ?? []),
    ...(r.plan.previous?.service.groups ?? []),
  ]);
  return sessions
    .filter((s) => !targeted.has(s.agentId) && groups.has(s.group))
    .map((session) => {
      const inGroup = stored?.service.groups.includes(session.group) ?? false;
      const config = toServiceConfig(r.serviceId, inGroup ? stored : null);
      return {
        session,
        update: { full: false, services: [config], noValidate: false, noReload: false },
      };
    });
}
