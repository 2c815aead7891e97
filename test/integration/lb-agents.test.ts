import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../src/dev/wait-for.js';
import type { LbRequest } from '../../src/gen/thales/v1/LbRequest.js';
import type { LbRequestState__Output } from '../../src/gen/thales/v1/LbRequestState.js';
import type { LbServiceState__Output } from '../../src/gen/thales/v1/LbServiceState.js';
import { type LbTestCluster, call, useLbFixture } from '../harness/lb-cluster.js';

// Real ZooKeeper, real replica processes, two real lb-agents each with its own nginx.
const { newCluster, up, backendAddress } = useLbFixture();

async function startCluster(): Promise<LbTestCluster> {
  const cluster = newCluster();
  await cluster.startReplicas(2);
  await cluster.startAgent('lb-a', 'edge');
  await cluster.startAgent('lb-b', 'edge');
  await cluster.waitAgentsJoined('edge', 2);
  return cluster;
}

function request(id: string, serviceId: string, body: Partial<LbRequest> = {}): LbRequest {
  return {
    requestId: id,
    service: { serviceId, basePath: `/${serviceId}`, groups: ['edge'] },
    ...body,
  };
}

async function submitAndWait(c: LbTestCluster, req: LbRequest): Promise<LbRequestState__Output> {
  await call(c.client(), 'SubmitRequest', req);
  return waitRequest(c, req.requestId as string);
}

async function waitRequest(c: LbTestCluster, id: string): Promise<LbRequestState__Output> {
  return waitFor(
    `request ${id} to finish`,
    async () => {
      const r = await call<object, LbRequestState__Output>(c.client(), 'GetRequest', {
        requestId: id,
      });
      return r.state === 'WAITING' || r.state === 'CANCELING' ? undefined : r;
    },
    { timeoutMs: 60_000 },
  );
}

/** The backends that answered `n` GETs through an agent. */
async function backendsSeen(
  c: LbTestCluster,
  agent: number,
  path: string,
  n = 12,
): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await c.agents[agent]?.get(path);
    if (r?.status === 200) seen.add(r.body);
    else seen.add(`status ${r?.status}`);
  }
  return seen;
}

describe('lb-agents with real nginx', () => {
  it('routes through both agents; removing an upstream stops its traffic; DELETE removes it', async () => {
    const c = await startCluster();
    const add = await submitAndWait(c, request('r1', 'web', { addUpstreams: [up(0), up(1)] }));
    expect(add.state).toBe('SUCCESS');
    expect(add.agents.map((a) => a.status).sort()).toEqual(['ACKED', 'ACKED']);
    for (const a of [0, 1])
      expect(await backendsSeen(c, a, '/web/x')).toEqual(new Set(['b1', 'b2']));

    // Only the members change: the Lua balancer takes them without a reload, and the removed
    // upstream gets no request once the change is acked (invariant 5).
    const statuses = () => Promise.all(c.agents.map((a) => a.status()));
    const before = await statuses();
    const rm = await submitAndWait(c, request('r2', 'web', { removeUpstreams: [up(0)] }));
    expect(rm.state).toBe('SUCCESS');
    for (const a of [0, 1]) expect(await backendsSeen(c, a, '/web/x')).toEqual(new Set(['b2']));
    const after = await statuses();
    expect(after.map((s) => s?.reloads)).toEqual(before.map((s) => s?.reloads));
    expect(after.map((s) => s?.memberUpdates)).toEqual(
      before.map((s) => (s?.memberUpdates ?? 0) + 1),
    );

    // A service file changed behind the agent's back is rewritten to what it acked.
    const file = path.join(c.agents[0]?.workDir as string, 'nginx/conf/upstreams/web.conf');
    const acked = readFileSync(file, 'utf8');
    writeFileSync(file, '# tampered\n');
    await waitFor('drift repaired', () => readFileSync(file, 'utf8') === acked);
    expect(await backendsSeen(c, 0, '/web/x')).toEqual(new Set(['b2']));

    // Removing an upstream that is not there succeeds.
    const again = await submitAndWait(c, request('r3', 'web', { removeUpstreams: [up(2)] }));
    expect(again.state).toBe('SUCCESS');

    const del = await submitAndWait(c, request('r4', 'web', { action: 'DELETE' }));
    expect(del.state).toBe('SUCCESS');
    for (const a of [0, 1]) expect((await c.agents[a]?.get('/web/x'))?.status).toBe(404);
    await expect(call(c.client(), 'GetService', { serviceId: 'web' })).rejects.toMatchObject({
      code: 5,
    });
  });

  it('a request nginx -t refuses FAILs, both agents are reverted, other traffic never fails', async () => {
    const c = await startCluster();
    expect((await submitAndWait(c, request('s1', 'steady', { addUpstreams: [up(0)] }))).state).toBe(
      'SUCCESS',
    );
    expect((await submitAndWait(c, request('w1', 'web', { addUpstreams: [up(1)] }))).state).toBe(
      'SUCCESS',
    );
    let stop = false;
    let ok = 0;
    const bad: string[] = [];
    const client = (async () => {
      while (!stop) {
        for (const a of c.agents) {
          const r = await a.get('/steady/').catch((e: Error) => ({ status: 0, body: e.message }));
          if (r.status === 200) ok++;
          else bad.push(`${a.id}: ${r.status} ${r.body}`);
        }
      }
    })();
    const broken = request('w2', 'web', {
      addUpstreams: [up(2)],
      service: {
        serviceId: 'web',
        basePath: '/web',
        groups: ['edge'],
        options: { nginxExtraConfigs: 'no_such_directive on;' },
      },
    });
    const failed = await submitAndWait(c, broken);
    // One assertion on the whole outcome, so a failure shows every agent's result.
    expect({
      state: failed.state,
      nginxError: /no_such_directive/.test(failed.message),
      agents: failed.agents.map((a) => a.status).sort(),
    }).toEqual({ state: 'FAILED', nginxError: true, agents: ['REVERTED', 'REVERTED'] });
    // Both agents still route /web to b2 only, as before the failed request.
    for (const a of [0, 1]) expect(await backendsSeen(c, a, '/web/')).toEqual(new Set(['b2']));
    const svc = await call<object, LbServiceState__Output>(c.client(), 'GetService', {
      serviceId: 'web',
    });
    expect(svc.upstreams.map((u) => u.upstream)).toEqual([backendAddress(1)]);
    stop = true;
    await client;
    expect(bad).toEqual([]);
    expect(ok).toBeGreaterThan(0);
  });

  it('base-path conflicts, unknown groups and bad input change nothing; ids are idempotent', async () => {
    const c = await startCluster();
    expect((await submitAndWait(c, request('a1', 'alpha', { addUpstreams: [up(0)] }))).state).toBe(
      'SUCCESS',
    );
    const conflict = await submitAndWait(c, {
      ...request('b1', 'beta', { addUpstreams: [up(1)] }),
      service: { serviceId: 'beta', basePath: '/alpha', groups: ['edge'] },
    });
    expect(conflict.state).toBe('INVALID_REQUEST_NOOP');
    expect(conflict.message).toMatch(/held by service 'alpha'/);
    expect(await backendsSeen(c, 0, '/alpha/', 4)).toEqual(new Set(['b1']));

    const unknown = await submitAndWait(c, {
      ...request('u1', 'gamma'),
      service: { serviceId: 'gamma', basePath: '/gamma', groups: ['nowhere'] },
    });
    expect(unknown.state).toBe('INVALID_REQUEST_NOOP');

    // Same id, same body: the same request; same id, other body: ALREADY_EXISTS.
    const first = await call<LbRequest, LbRequestState__Output>(
      c.client(),
      'SubmitRequest',
      request('a1', 'alpha', { addUpstreams: [up(0)] }),
    );
    expect(first.state).toBe('SUCCESS');
    await expect(
      call(c.client(), 'SubmitRequest', request('a1', 'alpha', { addUpstreams: [up(2)] })),
    ).rejects.toMatchObject({ code: 6 });

    const cases: [LbRequest, RegExp][] = [
      [
        request('x1', 'bad', { addUpstreams: [{ upstream: 'no-port' }] }),
        /addUpstreams\.0\.upstream/,
      ],
      [
        { ...request('x2', 'bad'), service: { serviceId: 'bad', basePath: '/bad', groups: [] } },
        /service\.groups/,
      ],
      [
        {
          ...request('x3', 'bad'),
          service: { serviceId: 'bad', basePath: 'bad', groups: ['edge'] },
        },
        /service\.basePath/,
      ],
      [
        request('x4', 'bad', {
          addUpstreams: Array.from({ length: 3000 }, (_, i) => ({
            upstream: `host-${i}.example.com:8080`,
            requestId: 'x'.repeat(20),
          })),
        }),
        /request: body is/,
      ],
    ];
    for (const [req, field] of cases) {
      await expect(call(c.client(), 'SubmitRequest', req)).rejects.toMatchObject({
        code: 3,
        details: expect.stringMatching(field),
      });
      await expect(
        call(c.client(), 'GetRequest', { requestId: req.requestId }),
      ).rejects.toMatchObject({ code: 5 });
    }
    // Unknown fields over HTTP (same zod schema) name the field too.
    const res = await fetch(`${c.replicas[0]?.url}/api/lb/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...request('x5', 'bad'), colour: 'blue' }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/colour/);
    await expect(call(c.client(), 'GetRequest', { requestId: 'x5' })).rejects.toMatchObject({
      code: 5,
    });
  });

  it('two requests for one service at once are applied in turn; both agents end exactly right', async () => {
    const c = await startCluster();
    expect((await submitAndWait(c, request('c0', 'race', { addUpstreams: [up(0)] }))).state).toBe(
      'SUCCESS',
    );
    // Submitted at once through two different replicas (Baragon #324 lost one of them).
    await Promise.all([
      call(
        c.client(c.replicas[0]),
        'SubmitRequest',
        request('c1', 'race', { addUpstreams: [up(1)] }),
      ),
      call(
        c.client(c.replicas[1]),
        'SubmitRequest',
        request('c2', 'race', { addUpstreams: [up(2)], removeUpstreams: [up(0)] }),
      ),
    ]);
    expect((await waitRequest(c, 'c1')).state).toBe('SUCCESS');
    expect((await waitRequest(c, 'c2')).state).toBe('SUCCESS');
    const svc = await call<object, LbServiceState__Output>(c.client(), 'GetService', {
      serviceId: 'race',
    });
    expect(new Set(svc.upstreams.map((u) => u.upstream))).toEqual(
      new Set([backendAddress(1), backendAddress(2)]),
    );
    for (const a of [0, 1])
      expect(await backendsSeen(c, a, '/race/')).toEqual(new Set(['b2', 'b3']));
    const http = await (await fetch(`${c.replicas[1]?.url}/api/lb/services`)).json();
    expect(http).toHaveLength(1);
  });
});
