import { describe, expect, it } from 'vitest';
import { waitFor } from '../../src/dev/wait-for.js';
import type { LbRequest } from '../../src/gen/thales/v1/LbRequest.js';
import type { LbRequestState__Output } from '../../src/gen/thales/v1/LbRequestState.js';
import { type LbTestCluster, call, useLbFixture } from '../harness/lb-cluster.js';

// An lb-agent that stops answering (SIGSTOP), agent timeouts, and cancels: real processes.
const { newCluster, up } = useLbFixture({ THALES_LB_AGENT_TIMEOUT_MS: '5000' });

const request = (id: string, add: number[]): LbRequest => ({
  requestId: id,
  service: { serviceId: 'web', basePath: '/web', groups: ['edge'] },
  addUpstreams: add.map(up),
});

async function get(c: LbTestCluster, id: string): Promise<LbRequestState__Output> {
  return call<object, LbRequestState__Output>(c.client(), 'GetRequest', { requestId: id });
}

async function waitFinal(c: LbTestCluster, id: string): Promise<LbRequestState__Output> {
  return waitFor(
    `request ${id} to finish`,
    async () => {
      const r = await get(c, id);
      return r.state === 'WAITING' || r.state === 'CANCELING' ? undefined : r;
    },
    { timeoutMs: 60_000 },
  );
}

async function routesOnlyTo(c: LbTestCluster, name: string): Promise<boolean> {
  for (const a of c.agents) {
    for (let i = 0; i < 6; i++) {
      const r = await a.get('/web/').catch(() => undefined);
      if (r?.status !== 200 || r.body !== name) return false;
    }
  }
  return true;
}

describe('lb timeouts and cancels', () => {
  it('a silent agent times out → every agent reverted → FAILED; a queued request cancels at once; one in flight is reverted and CANCELED', async () => {
    const c = newCluster();
    await c.startReplicas(2);
    await c.startAgent('lb-a', 'edge');
    const b = await c.startAgent('lb-b', 'edge');
    await c.waitAgentsJoined('edge', 2);
    await call(c.client(), 'SubmitRequest', request('t0', [0]));
    expect((await waitFinal(c, 't0')).state).toBe('SUCCESS');

    b.process.signal('SIGSTOP');
    await call(c.client(), 'SubmitRequest', request('t1', [1]));
    await waitFor('t1 in flight', async () => (await get(c, 't1')).step === 'APPLY_SENT');
    await call(c.client(), 'SubmitRequest', request('t2', [2]));
    const canceled = await call<object, LbRequestState__Output>(c.client(), 'CancelRequest', {
      requestId: 't2',
    });
    expect(canceled.state).toBe('CANCELED');

    const t1 = await waitFinal(c, 't1');
    expect(t1.state).toBe('FAILED');
    const byAgent = Object.fromEntries(t1.agents.map((a) => [a.agentId, a.status]));
    expect(byAgent).toEqual({ 'lb-a': 'REVERTED', 'lb-b': 'REVERT_FAILED' });
    expect(t1.message).toMatch(/lb-b: TIMED_OUT/);
    b.process.signal('SIGCONT');
    await waitFor('both agents back on b1 only', () => routesOnlyTo(c, 'b1'));
    expect((await get(c, 't2')).state).toBe('CANCELED');

    b.process.signal('SIGSTOP');
    await call(c.client(), 'SubmitRequest', request('t3', [1]));
    await waitFor('t3 in flight', async () => (await get(c, 't3')).step === 'APPLY_SENT');
    const canceling = await call<object, LbRequestState__Output>(c.client(), 'CancelRequest', {
      requestId: 't3',
    });
    expect(canceling.state).toBe('CANCELING');
    b.process.signal('SIGCONT');
    expect((await waitFinal(c, 't3')).state).toBe('CANCELED');
    await waitFor('both agents back on b1 only', () => routesOnlyTo(c, 'b1'));
    const http = await fetch(`${c.replicas[0]?.url}/api/lb/services/web`);
    expect(((await http.json()) as { upstreams: unknown[] }).upstreams).toHaveLength(1);
  });
});
