import { describe, expect, it } from 'vitest';
import type { LbGroupUpdate__Output } from '../../../src/gen/thales/v1/LbGroupUpdate.js';
import type { LbServiceConfig__Output } from '../../../src/gen/thales/v1/LbServiceConfig.js';
import type { ServiceChange } from '../../../src/lb/agent/batch-applier.js';
import { ApplyLane } from '../../../src/lb/agent/apply-lane.js';
import { ackFor, mergeUpdates } from '../../../src/lb/agent/update-batch.js';

const config = (serviceId: string, version: string): LbServiceConfig__Output => ({
  serviceId,
  version,
  deleted: false,
  service: null,
  upstreams: [],
});

function update(
  services: LbServiceConfig__Output[],
  extra: Partial<LbGroupUpdate__Output> = {},
): LbGroupUpdate__Output {
  return { nonce: 'n', full: false, services, noValidate: false, noReload: false, ...extra };
}

/** A stand-in renderer: the change names the version it was rendered from. */
const render = (s: LbServiceConfig__Output): ServiceChange => ({
  serviceId: s.serviceId,
  version: s.version,
  files: { upstreamConf: `u ${s.version}`, locationConf: `l ${s.version}` },
});
const versions = (changes: ServiceChange[]) =>
  Object.fromEntries(changes.map((c) => [c.serviceId, c.files ? c.version : 'removed']));

describe('mergeUpdates (pure)', () => {
  it('keeps the latest config of each service across the deltas of a batch', () => {
    const merged = mergeUpdates(
      [update([config('a', '1'), config('b', '1')]), update([config('a', '2')])],
      ['a', 'b', 'c'],
      render,
    );
    expect(versions(merged.changes)).toEqual({ a: '2', b: '1' });
    expect(merged).toMatchObject({ full: false, validate: true, reload: true });
  });

  it('a full state replaces everything present; deltas before it are dropped, later ones win', () => {
    const merged = mergeUpdates(
      [
        update([config('x', '9')]),
        update([config('a', '1')], { full: true }),
        update([config('a', '2'), config('d', '1')]),
      ],
      ['a', 'b', 'x'],
      render,
    );
    expect(versions(merged.changes)).toEqual({ a: '2', b: 'removed', x: 'removed', d: '1' });
    expect(merged.full).toBe(true);
  });

  it('validates and reloads unless every update opted out', () => {
    const quiet = { noValidate: true, noReload: true };
    const all = mergeUpdates([update([], quiet), update([], quiet)], [], render);
    expect([all.validate, all.reload]).toEqual([false, false]);
    const one = mergeUpdates([update([], quiet), update([], { noReload: true })], [], render);
    expect([one.validate, one.reload]).toEqual([true, false]);
  });
});

describe('ackFor (pure)', () => {
  const results = new Map([
    ['a', { ok: true }],
    ['b', { ok: false, error: 'nginx: [emerg] bad' }],
    ['c', { ok: true }],
  ]);
  const versionOf = (id: string) => ({ a: '3', c: '1' })[id];

  it('answers a delta for its own services, NACKing with the failed ones named', () => {
    const ack = ackFor(
      { ...update([config('a', '3'), config('b', '2')]), nonce: 'n1' },
      results,
      versionOf,
    );
    expect(ack).toEqual({
      nonce: 'n1',
      ok: false,
      error: 'b: nginx: [emerg] bad',
      results: [
        { serviceId: 'a', version: '3', ok: true, error: '' },
        { serviceId: 'b', version: 'deleted', ok: false, error: 'nginx: [emerg] bad' },
      ],
    });
    expect(ackFor(update([config('c', '1')]), results, versionOf).ok).toBe(true);
  });

  it('answers a full state for every service of the batch', () => {
    const ack = ackFor(update([], { full: true }), results, versionOf);
    expect(ack.results?.map((r) => r.serviceId)).toEqual(['a', 'b', 'c']);
  });
});

describe('ApplyLane', () => {
  /** A lane whose batches finish when the test says so. */
  function lane() {
    const batches: string[][] = [];
    const finish: (() => void)[] = [];
    const errors: unknown[] = [];
    const l = new ApplyLane<string>(
      (batch) => {
        batches.push(batch);
        if (batch.includes('boom')) return Promise.reject(new Error('boom'));
        return new Promise<void>((resolve) => finish.push(resolve));
      },
      (err) => errors.push(err),
    );
    const tick = () => new Promise((r) => setImmediate(r));
    return { l, batches, finish, errors, tick };
  }

  it('merges what arrives during a batch into the next one', async () => {
    const { l, batches, finish, tick } = lane();
    l.push('u1');
    l.push('u2');
    l.push('u3');
    await tick();
    expect(batches).toEqual([['u1']]);
    finish.shift()?.();
    await tick();
    expect(batches).toEqual([['u1'], ['u2', 'u3']]);
    finish.shift()?.();
    await tick();
    expect(l.idle).toBe(true);
  });

  it('runs a drift repair only when idle, and drains what queued during it', async () => {
    const { l, batches, finish, tick } = lane();
    l.push('u1');
    expect(await l.runIfIdle(() => Promise.resolve())).toBe(false);
    finish.shift()?.();
    await tick();
    let repairDone!: () => void;
    const running = l.runIfIdle(() => new Promise<void>((r) => (repairDone = r)));
    l.push('u2');
    await tick();
    expect(batches).toEqual([['u1']]);
    repairDone();
    expect(await running).toBe(true);
    await tick();
    expect(batches).toEqual([['u1'], ['u2']]);
    finish.shift()?.();
  });

  it('reports a failed batch and goes on', async () => {
    const { l, batches, errors, finish, tick } = lane();
    l.push('boom');
    await tick();
    l.push('u2');
    await tick();
    expect(errors).toHaveLength(1);
    expect(batches).toEqual([['boom'], ['u2']]);
    finish.shift()?.();
  });
});
