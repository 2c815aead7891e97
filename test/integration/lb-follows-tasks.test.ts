import { describe, expect, it } from 'vitest';
import { useZooKeeper } from '../harness/index.js';
import { startWebOnV1, waitServedBy } from '../harness/lb-deploys.js';
import { startTraffic } from '../harness/lb-traffic.js';
import { expectEndedOutFirst, waitAllInLb, waitWebRunning } from '../harness/lb-follow.js';
import { callJson, shortAgentGraces } from '../harness/tasks-cluster.js';

// Real ZooKeeper, real replicas, two real agents, two real lb-agents each with its own nginx.
const zk = useZooKeeper();
shortAgentGraces();

describe('the load balancer follows the tasks (real agents, ZooKeeper, nginx lb-agents)', () => {
  it('unhealthy replacement, scale down and an API kill: each out of nginx before killed, 0 failed requests', async () => {
    const { cluster, lb, url } = await startWebOnV1(zk());
    const traffic = startTraffic(
      lb.agents.map((a) => a.nginxPort),
      '/web/hello',
    );

    // Unhealthy: out of the load balancer, killed, replaced.
    const [sick] = await waitAllInLb(cluster, 4);
    const fail = await fetch(`http://127.0.0.1:${sick!.ports[0]}/health/fail`, { method: 'POST' });
    expect(fail.status).toBe(200);
    await waitWebRunning(cluster, 4, [sick!.id]);

    // Scale down: two tasks leave nginx, then end.
    const before = await waitAllInLb(cluster, 4);
    const scaled = await callJson(`${url}/api/requests/request/web/scale`, 'PUT', { instances: 2 });
    expect(scaled.status, JSON.stringify(scaled.body)).toBe(200);
    await waitWebRunning(cluster, 2);
    const kept = await waitAllInLb(cluster, 2);
    const scaledAway = before.filter((t) => !kept.some((k) => k.id === t.id)).map((t) => t.id);

    // A kill through the API: out of nginx, killed, replaced.
    const victim = kept[0]!;
    const killed = await callJson(`${url}/api/tasks/task/${victim.id}`, 'DELETE');
    expect(killed.status).toBe(202);
    await waitWebRunning(cluster, 2, [victim.id]);
    await waitServedBy(lb, 'v1', 2);

    await traffic.stop();
    expect(traffic.failures()).toEqual([]);

    const ended = await expectEndedOutFirst(cluster, [sick!.id, ...scaledAway, victim.id]);
    // It was killed for being unhealthy, not for anything else.
    expect(ended[0].health.status).toBe('UNHEALTHY');
  }, 300_000);
});
