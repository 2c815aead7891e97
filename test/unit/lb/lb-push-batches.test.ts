import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LbServiceRecord } from '../../../src/lb/index.js';
import { onlyMembersDiffer } from '../../../src/lb/agent/batch-applier.js';
import { LbAgentSession } from '../../../src/lb/lb-agent-session.js';
import { catchUpPushes, groupPushesByAgent } from '../../../src/lb/lb-push-batches.js';
import type { LbTarget } from '../../../src/lb/lb-request-state-machine.js';
import { lbServiceSchema } from '../../../src/lb/lb-validation.js';

function stored(serviceId: string, groups: string[], version = 1): LbServiceRecord {
  return {
    service: lbServiceSchema.parse({ serviceId, basePath: `/${serviceId}`, groups }),
    upstreams: [{ upstream: '10.0.0.1:80' } as LbServiceRecord['upstreams'][number]],
    version,
    lastRequestId: 'x',
    updatedAt: 0,
  };
}

function ready(
  serviceId: string,
  targets: LbTarget[],
  flags: { noValidate?: boolean; noReload?: boolean } = {},
) {
  return {
    serviceId,
    record: {
      request: { noValidate: flags.noValidate ?? false, noReload: flags.noReload ?? false },
    },
    plan: { targets, next: stored(serviceId, ['g']) },
  };
}

const target = (agentId: string, deleted = false): LbTarget => ({ agentId, group: 'g', deleted });

describe('groupPushesByAgent (pure)', () => {
  it('sends each agent one update listing every service it must change', () => {
    const a = ready('a', [target('lb-1'), target('lb-2')]);
    const b = ready('b', [target('lb-2', true)]);
    const pushes = groupPushesByAgent([a, b]);
    expect(pushes.map((p) => p.agentId)).toEqual(['lb-1', 'lb-2']);
    const [one, two] = pushes;
    expect(one?.requests).toEqual([a]);
    expect(one?.update.services?.map((s) => s.serviceId)).toEqual(['a']);
    expect(two?.requests).toEqual([a, b]);
    expect(two?.update.services?.map((s) => [s.serviceId, s.version, s.deleted])).toEqual([
      ['a', '1', false],
      ['b', 'deleted', true],
    ]);
    expect(two?.update).toMatchObject({ full: false, noValidate: false, noReload: false });
  });

  it('keeps requests with different noValidate/noReload in separate updates', () => {
    const pushes = groupPushesByAgent([
      ready('a', [target('lb-1')]),
      ready('b', [target('lb-1')], { noReload: true }),
      ready('c', [target('lb-1')], { noValidate: true }),
    ]);
    expect(pushes.map((p) => [p.update.noValidate, p.update.noReload])).toEqual([
      [false, false],
      [false, true],
      [true, false],
    ]);
  });

  it('puts every (request, target) pair in exactly one update (property)', () => {
    const agents = ['lb-1', 'lb-2', 'lb-3'];
    const requestArb = fc.record({
      targets: fc.uniqueArray(fc.constantFrom(...agents), { minLength: 1 }),
      noValidate: fc.boolean(),
      noReload: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(requestArb, { maxLength: 8 }), (specs) => {
        const rs = specs.map((s, i) =>
          ready(
            `s${i}`,
            s.targets.map((t) => target(t)),
            s,
          ),
        );
        const seen = groupPushesByAgent(rs).flatMap((p) =>
          (p.update.services ?? []).map((svc) => `${p.agentId}/${svc.serviceId}`),
        );
        const expected = rs.flatMap((r) =>
          r.plan.targets.map((t) => `${t.agentId}/${r.serviceId}`),
        );
        expect(seen.sort()).toEqual(expected.sort());
      }),
    );
  });
});

describe('catchUpPushes (pure)', () => {
  const session = (agentId: string, group: string) =>
    new LbAgentSession(agentId, group, { send: () => undefined, close: () => undefined });
  const sessions = [
    session('lb-1', 'g'),
    session('lb-2', 'g'),
    session('lb-3', 'h'),
    session('lb-4', 'z'),
  ];

  it('pushes the stored state to agents of the groups that were not in the round', () => {
    const r = {
      serviceId: 'web',
      plan: {
        targets: [target('lb-1')],
        next: stored('web', ['g']),
        previous: stored('web', ['h']),
      },
    };
    const pushes = catchUpPushes(r, stored('web', ['g'], 2), sessions);
    // lb-1 was in the round; lb-4's group was never the service's.
    expect(pushes.map((p) => p.session.agentId)).toEqual(['lb-2', 'lb-3']);
    const [inGroup, leftGroup] = pushes;
    expect(inGroup?.update.services?.[0]).toMatchObject({
      serviceId: 'web',
      version: '2',
      deleted: false,
    });
    // The service left group h: its agent removes it.
    expect(leftGroup?.update.services?.[0]).toMatchObject({ serviceId: 'web', deleted: true });
    expect(inGroup?.update).toMatchObject({ full: false, noValidate: false, noReload: false });
  });

  it('removes a deleted service from every agent that missed the round', () => {
    const r = {
      serviceId: 'web',
      plan: { targets: [], next: null, previous: stored('web', ['g']) },
    };
    const pushes = catchUpPushes(r, null, sessions);
    expect(pushes.map((p) => [p.session.agentId, p.update.services?.[0]?.deleted])).toEqual([
      ['lb-1', true],
      ['lb-2', true],
    ]);
  });
});

describe('onlyMembersDiffer (pure)', () => {
  const dynamic = { upstreamConf: 'upstream u {}', locationConf: 'location /a {}', members: '1:1' };

  it('is true only when both are dynamic and the config around the members is the same', () => {
    expect(onlyMembersDiffer(dynamic, { ...dynamic, members: '1:1 2:2' })).toBe(true);
    expect(onlyMembersDiffer(dynamic, { ...dynamic, members: '' })).toBe(true);
    expect(onlyMembersDiffer(dynamic, { ...dynamic, locationConf: 'location /b {}' })).toBe(false);
    expect(onlyMembersDiffer(dynamic, { ...dynamic, upstreamConf: 'upstream v {}' })).toBe(false);
    const plain = { upstreamConf: dynamic.upstreamConf, locationConf: dynamic.locationConf };
    expect(onlyMembersDiffer(dynamic, plain)).toBe(false);
    expect(onlyMembersDiffer(plain, dynamic)).toBe(false);
    expect(onlyMembersDiffer(null, dynamic)).toBe(false);
    expect(onlyMembersDiffer(dynamic, null)).toBe(false);
  });
});
