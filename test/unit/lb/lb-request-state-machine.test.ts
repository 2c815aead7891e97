import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LbRequest,
  type LbServiceRecord,
  type LbSnapshot,
  decideRound,
  lbRequestSchema,
  nextUpstreams,
  planLbRequest,
  recordAnswer,
  recordTimeout,
  startRound,
} from '../../../src/lb/index.js';

function req(
  over: Record<string, unknown> & { service?: Record<string, unknown> } = {},
): LbRequest {
  const { service, ...rest } = over;
  return lbRequestSchema.parse({
    requestId: 'r1',
    service: { serviceId: 'web', basePath: '/web', groups: ['edge'], ...service },
    ...rest,
  });
}

function record(
  serviceId: string,
  basePath: string,
  upstreams: string[] = [],
  groups = ['edge'],
): LbServiceRecord {
  return {
    service: req({ service: { serviceId, basePath, groups } }).service,
    upstreams: upstreams.map((upstream) => ({ upstream })),
    version: 1,
    lastRequestId: 'old',
    updatedAt: 0,
  };
}

function snap(over: Partial<LbSnapshot> = {}): LbSnapshot {
  return {
    services: new Map(),
    inFlight: new Map(),
    knownGroups: new Set(['edge', 'other']),
    agents: new Map([['edge', ['a1', 'a2']]]),
    inAgentGracePeriod: false,
    ...over,
  };
}

describe('planLbRequest', () => {
  it('applies a new service to every agent of its group, version 1', () => {
    const plan = planLbRequest(req({ addUpstreams: [{ upstream: 'h:1' }] }), snap(), 5);
    expect(plan).toMatchObject({ kind: 'apply', previous: null, reloadOnly: false });
    if (plan.kind !== 'apply') return;
    expect(plan.next?.version).toBe(1);
    expect(plan.next?.upstreams).toEqual([{ upstream: 'h:1' }]);
    expect(plan.targets.map((t) => t.agentId)).toEqual(['a1', 'a2']);
  });

  it('refuses a base path held by another service in a shared group (stored or in flight)', () => {
    const stored = snap({ services: new Map([['other', record('other', '/web')]]) });
    expect(planLbRequest(req(), stored, 0)).toMatchObject({ kind: 'noop' });
    const flying = snap({ inFlight: new Map([['other', record('other', '/web').service]]) });
    expect(planLbRequest(req(), flying, 0)).toMatchObject({ kind: 'noop' });
    // Another group: no conflict.
    const elsewhere = snap({ services: new Map([['o', record('o', '/web', [], ['other'])]]) });
    expect(planLbRequest(req(), elsewhere, 0).kind).toBe('apply');
  });

  it('unknown group → noop; no agent → fail, or defer during the failover grace', () => {
    expect(planLbRequest(req({ service: { groups: ['nope'] } }), snap(), 0)).toMatchObject({
      kind: 'noop',
    });
    const empty = snap({ agents: new Map() });
    expect(planLbRequest(req(), empty, 0).kind).toBe('fail');
    expect(planLbRequest(req(), { ...empty, inAgentGracePeriod: true }, 0).kind).toBe('defer');
  });

  it('DELETE of a missing service is a noop; DELETE removes it from every agent', () => {
    expect(planLbRequest(req({ action: 'DELETE' }), snap(), 0).kind).toBe('noop');
    const s = snap({ services: new Map([['web', record('web', '/web', ['h:1'])]]) });
    const plan = planLbRequest(req({ action: 'DELETE' }), s, 0);
    expect(plan).toMatchObject({ kind: 'apply', next: null });
    if (plan.kind === 'apply') expect(plan.targets.every((t) => t.deleted)).toBe(true);
  });

  it('moving a service out of a group deletes it on that group and keeps its upstreams', () => {
    const s = snap({
      services: new Map([['web', record('web', '/web', ['h:1'], ['edge'])]]),
      agents: new Map([
        ['edge', ['a1']],
        ['other', ['b1']],
      ]),
    });
    const plan = planLbRequest(req({ service: { groups: ['other'] } }), s, 0);
    if (plan.kind !== 'apply') throw new Error(plan.kind);
    expect(plan.targets).toEqual([
      { agentId: 'a1', group: 'edge', deleted: true },
      { agentId: 'b1', group: 'other', deleted: false },
    ]);
    expect(plan.next?.upstreams).toEqual([{ upstream: 'h:1' }]);
    expect(plan.next?.version).toBe(2);
  });

  it('upstreamUpdateOnly keeps the stored service settings', () => {
    const s = snap({ services: new Map([['web', record('web', '/web', [])]]) });
    const plan = planLbRequest(
      req({ upstreamUpdateOnly: true, service: { basePath: '/other' } }),
      s,
      0,
    );
    if (plan.kind !== 'apply') throw new Error(plan.kind);
    expect(plan.next?.service.basePath).toBe('/web');
  });
});

describe('nextUpstreams', () => {
  const hp = fc.integer({ min: 1, max: 30 }).map((p) => `h:${p}`);
  it('equals set semantics: (existing − removed) ∪ added, or replace; removing the absent is fine', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(hp),
        fc.array(hp),
        fc.array(hp),
        fc.array(hp),
        (ex, add, rm, rep) => {
          const r = req({
            addUpstreams: add.map((upstream) => ({ upstream })),
            removeUpstreams: rm.map((upstream) => ({ upstream })),
            replaceUpstreams: rep.map((upstream) => ({ upstream })),
          });
          const out = nextUpstreams(
            ex.map((upstream) => ({ upstream })),
            r,
          ).map((u) => u.upstream);
          const expected =
            rep.length > 0 ? new Set(rep) : new Set([...ex.filter((u) => !rm.includes(u)), ...add]);
          expect(new Set(out)).toEqual(expected);
          expect(out.length).toBe(new Set(out).size);
        },
      ),
    );
  });
});

describe('rounds', () => {
  const targets = [
    { agentId: 'a1', group: 'edge', deleted: false },
    { agentId: 'a2', group: 'edge', deleted: false },
  ];
  type Event = { agent: 'a1' | 'a2' | 'zz'; ok: boolean } | { timeout: true };
  const event: fc.Arbitrary<Event> = fc.oneof(
    fc.record({
      agent: fc.constantFrom('a1' as const, 'a2' as const, 'zz' as const),
      ok: fc.boolean(),
    }),
    fc.constant({ timeout: true as const }),
  );

  it('commits iff every agent acked; any NACK or timeout reverts; a revert round fails', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 8 }), fc.boolean(), (events, canceling) => {
        let round = startRound('APPLY', targets);
        for (const e of events) {
          round =
            'timeout' in e ? recordTimeout(round) : recordAnswer(round, e.agent, e.ok, 'boom');
        }
        const d = decideRound(round, canceling);
        const statuses = round.agents.map((a) => a.status);
        if (statuses.includes('PENDING')) expect(d).toBe('WAIT');
        else if (statuses.every((s) => s === 'ACKED') && !canceling) expect(d).toBe('COMMIT');
        else expect(d).toBe('REVERT');
        // The first answer of an agent is final.
        const first = events.find((e) => 'timeout' in e || e.agent === 'a1');
        if (first && !('timeout' in first)) {
          expect(round.agents[0]?.status).toBe(first.ok ? 'ACKED' : 'NACKED');
        }
        const revert = recordTimeout(startRound('REVERT', targets, round.agents));
        expect(decideRound(revert)).toBe('FAIL');
        expect(revert.agents.every((a) => a.status === 'REVERT_FAILED')).toBe(true);
      }),
    );
  });

  it('a revert round keeps the apply error of each agent', () => {
    const applied = recordAnswer(
      recordAnswer(startRound('APPLY', targets), 'a1', true),
      'a2',
      false,
      'nginx: bad',
    );
    const revert = recordAnswer(
      recordAnswer(startRound('REVERT', targets, applied.agents), 'a1', true),
      'a2',
      true,
    );
    expect(revert.agents).toEqual([
      { agentId: 'a1', group: 'edge', status: 'REVERTED' },
      { agentId: 'a2', group: 'edge', status: 'REVERTED', error: 'nginx: bad' },
    ]);
  });
});
