/**
 * LbFollower.mayRouteToAgent, the orphan-kill hold (invariant 5): a task marked LOST whose
 * agent came back is not killed while any load-balancer service may route to an upstream on
 * that host that no active task owns — whoever made the service, the scheduler's follow rule
 * or an operator's hand-made requests.
 */
import { describe, expect, it } from 'vitest';
import type { KillSender } from '../../../src/scheduler/kill-policy.js';
import { LbFollower } from '../../../src/scheduler/lb-follower.js';
import type {
  GatewayServiceState,
  SchedulerLoadBalancer,
} from '../../../src/scheduler/load-balancer-gateway.js';
import type { TaskLeaderContext } from '../../../src/scheduler/task-leader-context.js';
import { makeTask } from './leader-fakes.js';

function fakeLb(services: Record<string, string[]>, ready = true): SchedulerLoadBalancer {
  return {
    ready,
    submit: () => Promise.resolve(),
    outcomes: () => Promise.resolve(new Map()),
    service: (id): GatewayServiceState => ({
      stored: id in services,
      upstreams: new Set(services[id] ?? []),
      touches: [],
      open: 0,
    }),
    serviceIds: () => Object.keys(services),
    onChange: () => () => undefined,
  };
}

function follower(lb: SchedulerLoadBalancer, activePort: number) {
  const task = {
    ...makeTask('web', 1, 'TASK_RUNNING', 'a'),
    host: '10.0.0.1',
    ports: [activePort],
  };
  const leader = {
    agents: new Map([['a', { record: { host: '10.0.0.1' } }]]),
    tasks: new Map([[task.taskId, task]]),
  } as unknown as TaskLeaderContext;
  const kills = {} as KillSender;
  return new LbFollower(
    leader,
    () => new Map(),
    kills,
    () => lb,
    () => undefined,
  );
}

describe('LbFollower.mayRouteToAgent (orphan kills wait for the load balancer)', () => {
  it('holds while a hand-made service (no load-balanced request) routes to an unowned upstream there', () => {
    // The chaos workload routes `web` by hand; the orphan's upstream 10.0.0.1:31002 is stale.
    expect(
      follower(fakeLb({ web: ['10.0.0.1:31001', '10.0.0.1:31002'] }), 31001).mayRouteToAgent('a'),
    ).toBe(true);
  });

  it('does not hold when every upstream on the host is owned by an active task, or on another host', () => {
    expect(
      follower(fakeLb({ web: ['10.0.0.1:31001', '10.0.0.2:31002'] }), 31001).mayRouteToAgent('a'),
    ).toBe(false);
    expect(follower(fakeLb({}), 31001).mayRouteToAgent('a')).toBe(false);
  });

  it('holds while the load balancer is not ready (unknown is not "not routed")', () => {
    expect(follower(fakeLb({}, false), 31001).mayRouteToAgent('a')).toBe(true);
  });
});
