import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ClusterStateView } from '../../src/api/index.js';
import { fetchJson, waitFor } from '../../src/dev/wait-for.js';
import type { LbRequest } from '../../src/gen/thales/v1/LbRequest.js';
import type { LbRequestState__Output } from '../../src/gen/thales/v1/LbRequestState.js';
import type { LocalReplica } from '../../src/dev/index.js';
import { type LbTestCluster, call, useLbFixture } from '../harness/lb-cluster.js';

// Faults with real processes: the leader SIGKILLed mid-request, an lb-agent SIGKILLed.
const { newCluster, up } = useLbFixture({ THALES_LB_AGENT_GRACE_MS: '10000' });

function request(id: string, add: number[], remove: number[] = []): LbRequest {
  return {
    requestId: id,
    service: { serviceId: 'web', basePath: '/web', groups: ['edge'] },
    addUpstreams: add.map(up),
    removeUpstreams: remove.map(up),
  };
}

async function getRequest(
  c: LbTestCluster,
  id: string,
  replica?: LocalReplica,
): Promise<LbRequestState__Output> {
  return call<object, LbRequestState__Output>(c.client(replica), 'GetRequest', { requestId: id });
}

/** Waits for a request to finish, asking `replica` (default: the first running one). */
async function waitState(
  c: LbTestCluster,
  id: string,
  replica?: LocalReplica,
): Promise<LbRequestState__Output> {
  return waitFor(
    `request ${id} to finish`,
    async () => {
      const r = await getRequest(c, id, replica);
      return r.state === 'WAITING' || r.state === 'CANCELING' ? undefined : r;
    },
    { timeoutMs: 60_000 },
  );
}

async function routesTo(c: LbTestCluster, agent: number, expected: string[]): Promise<boolean> {
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const r = await c.agents[agent]?.get('/web/').catch(() => undefined);
    seen.add(r?.status === 200 ? r.body : `status ${r?.status}`);
  }
  return [...seen].sort().join(',') === [...expected].sort().join(',');
}

describe('lb failover', () => {
  it('a request in flight when the leader is SIGKILLed completes under the new leader', async () => {
    const c = newCluster();
    // A short session timeout: the leader's crash is noticed in ~2 s.
    await c.startReplicas(3, 2_000);
    await c.startAgent('lb-a', 'edge');
    // lb-b finds the leader through ZooKeeper (--zk) rather than a list of replicas.
    await c.startAgent('lb-b', 'edge', 'zk');
    await c.waitAgentsJoined('edge', 2);
    await call(c.client(), 'SubmitRequest', request('f0', [0]));
    expect((await waitState(c, 'f0')).state).toBe('SUCCESS');

    // Hold lb-b so the next request stays in flight (lb-a acks, lb-b cannot answer).
    c.agents[1]?.process.signal('SIGSTOP');
    const leader = await c.leader();
    const follower = c.replicas.find((r) => r !== leader);
    await call(c.client(follower), 'SubmitRequest', request('f1', [1]));
    await waitFor('f1 in flight', async () => (await getRequest(c, 'f1')).step === 'APPLY_SENT');
    leader.process.signal('SIGKILL');
    c.agents[1]?.process.signal('SIGCONT');

    const done = await waitState(c, 'f1');
    expect([done.state, done.message]).toEqual(['SUCCESS', 'applied on every agent']);
    const newLeader = await c.leader();
    expect(newLeader.id).not.toBe(leader.id);
    const s = await fetchJson<ClusterStateView>(`${newLeader.url}/api/state`);
    expect(s?.role).toBe('LEADER');
    for (const a of [0, 1]) {
      await waitFor(`agent ${a} routes to b1 and b2`, () => routesTo(c, a, ['b1', 'b2']));
    }
  });

  it('SIGSTOP of the leader: an lb-agent watching the latch joins the new leader, which then applies requests', async () => {
    const c = newCluster();
    await c.startReplicas(3, 2_000);
    const agent = await c.startAgent('lb-z', 'edge', 'zk');
    await c.waitAgentsJoined('edge', 1);
    await call(c.client(), 'SubmitRequest', request('p0', [0]));
    expect((await waitState(c, 'p0')).state).toBe('SUCCESS');

    const leader = await c.leader();
    const others = c.replicas.filter((r) => r !== leader);
    const pausedAt = Date.now();
    leader.process.signal('SIGSTOP');
    try {
      // The group's membership is ephemeral in the leader's session: once the paused leader's
      // session expired, lb-z is listed only when the new leader has bootstrapped it.
      const next = await waitFor(
        'lb-z joined under a new leader',
        async () => {
          for (const r of others) {
            const s = await fetchJson<ClusterStateView>(`${r.url}/api/state`, 500);
            if (s?.role !== 'LEADER') continue;
            const g = await fetchJson<{ agents?: string[] }>(`${r.url}/api/lb/groups/edge`, 500);
            if (g?.agents?.includes('lb-z')) return r;
          }
          return undefined;
        },
        { timeoutMs: 60_000 },
      );
      const switchMs = Date.now() - pausedAt;
      const log = readFileSync(path.join(agent.workDir, 'agent.log'), 'utf8');
      expect(log).toMatch(new RegExp(`the leader latch names [^"]*:${next.grpcPort}"`));
      // Keepalive (ping every 10 s, 10 s to answer) could not have noticed this soon; the
      // bound is generous, the figure itself is in `npm run bench -- failover`.
      expect(switchMs).toBeLessThan(15_000);
      await call(c.client(next), 'SubmitRequest', request('p1', [1]));
      // Asked of the new leader: a call to the paused replica would hang until SIGCONT.
      expect((await waitState(c, 'p1', next)).state).toBe('SUCCESS');
      await waitFor('lb-z routes to b1 and b2', () => routesTo(c, 0, ['b1', 'b2']));
    } finally {
      leader.process.signal('SIGCONT');
    }
  });

  it('a restarted lb-agent bootstraps to the current state before it joins and acks', async () => {
    const c = newCluster();
    await c.startReplicas(2);
    const a = await c.startAgent('lb-a', 'edge');
    await c.startAgent('lb-b', 'edge');
    await c.waitAgentsJoined('edge', 2);
    await call(c.client(), 'SubmitRequest', request('g0', [0]));
    expect((await waitState(c, 'g0')).state).toBe('SUCCESS');

    a.process.signal('SIGKILL');
    await a.process.waitExit();
    // Its nginx keeps serving the last config while the agent is down.
    expect(await routesTo(c, 0, ['b1'])).toBe(true);
    await waitFor('lb-a to leave the group', async () => {
      const g = await fetchJson<{ agents: string[] }>(`${c.replicas[0]?.url}/api/lb/groups/edge`);
      return g?.agents.length === 1;
    });
    await call(c.client(), 'SubmitRequest', request('g1', [1, 2], [0]));
    const g1 = await waitState(c, 'g1');
    expect(g1.state).toBe('SUCCESS');
    expect(g1.agents.map((x) => x.agentId)).toEqual(['lb-b']);

    a.process.start();
    await c.waitAgentsJoined('edge', 2);
    // Joined means bootstrapped: the full state of the group is already applied.
    const status = await a.status();
    expect(status?.services).toEqual({ web: '2' });
    expect(await routesTo(c, 0, ['b2', 'b3'])).toBe(true);

    // And it takes part in the next request.
    await call(c.client(), 'SubmitRequest', request('g2', [], [2]));
    const g2 = await waitState(c, 'g2');
    expect(g2.state).toBe('SUCCESS');
    expect(g2.agents.map((x) => x.agentId).sort()).toEqual(['lb-a', 'lb-b']);
    expect(await routesTo(c, 0, ['b2'])).toBe(true);
  });

  it('an lb-agent stopped with --keep-nginx leaves nginx serving; its successor adopts it', async () => {
    const c = newCluster();
    await c.startReplicas(2);
    const a = await c.startAgent('lb-a', 'edge', 'scheduler', ['--keep-nginx']);
    await c.startAgent('lb-b', 'edge');
    await c.waitAgentsJoined('edge', 2);
    await call(c.client(), 'SubmitRequest', request('k0', [0]));
    expect((await waitState(c, 'k0')).state).toBe('SUCCESS');
    const nginxPid = (await a.status())?.nginxPid;
    expect(nginxPid).toBeGreaterThan(0);

    // Requests through lb-a's nginx, back to back, for the whole restart of its agent.
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const traffic = (async () => {
      while (running) {
        const r = await a.get('/web/').catch((err: unknown) => ({ status: 0, body: String(err) }));
        if (r.status === 200) served++;
        else failures.push(`${r.status} ${r.body}`);
      }
    })();
    a.process.signal('SIGTERM'); // a graceful stop, as a service manager does it
    expect(await a.process.waitExit()).toBe(0);
    await call(c.client(), 'SubmitRequest', request('k1', [1, 2], [0]));
    expect((await waitState(c, 'k1')).state).toBe('SUCCESS');
    a.process.start();
    await c.waitAgentsJoined('edge', 2);
    running = false;
    await traffic;
    // The successor took the change it missed, on the same nginx master. (Checked without
    // the traffic: its requests would share the balancer's round robin with these.)
    await waitFor('lb-a to route to b2 and b3', () => routesTo(c, 0, ['b2', 'b3']));
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(0);
    const status = await a.status();
    expect(status?.nginxPid).toBe(nginxPid);
    expect(status?.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
