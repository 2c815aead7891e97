/** Bad input: a typed error naming the item, and nothing placed. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OfferInputError,
  PLACEMENTS,
  matchOffers,
  type MatchInput,
} from '../../../src/offers/index.js';
import { placementIndex } from '../../../src/offers/offer-model.js';
import { agent, instances, task } from './fixtures.js';

function errorOf(input: unknown, options = {}): OfferInputError {
  try {
    matchOffers(input as MatchInput, options);
  } catch (e) {
    expect(e).toBeInstanceOf(OfferInputError);
    return e as OfferInputError;
  }
  throw new Error('no error thrown');
}

const offers = [agent('a'), agent('b')];

describe('input validation', () => {
  it.each([
    ['cpus', -1],
    ['cpus', Number.NaN],
    ['memoryMb', Number.POSITIVE_INFINITY],
    ['diskMb', '10'],
  ])('rejects task resources.%s = %s, naming the task', (field, value) => {
    const tasks = instances(15);
    tasks[12] = { ...tasks[12]!, resources: { ...tasks[12]!.resources, [field]: value } };
    const e = errorOf({ offers, tasks });
    expect(e.message).toBe(
      `tasks[12].resources.${field}: must be a finite number >= 0 (task web/d1/12)`,
    );
    expect(e.path).toBe(`tasks[12].resources.${field}`);
    expect(e.taskKey).toBe('web/d1/12');
    expect(e.code).toBe('INVALID_OFFER_INPUT');
  });

  it('rejects duplicate task keys, naming the second one', () => {
    const tasks = [task('r', 'd', 0), task('r', 'd', 1), task('r', 'd', 0)];
    expect(errorOf({ offers, tasks }).message).toBe(
      'tasks[2].key: duplicate task key (task r/d/0)',
    );
  });

  it('names the first task whose key repeats an earlier one, and only then', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('r', 's'), fc.constantFrom('d', 'e'), fc.nat(6)), {
          maxLength: 30,
        }),
        (keys) => {
          const tasks = keys.map(([r, d, n]) => task(r, d, n));
          const seen = new Set<string>();
          const first = keys.findIndex((k) => seen.size === seen.add(k.join('/')).size);
          if (first < 0) {
            expect(() => matchOffers({ offers, tasks })).not.toThrow();
          } else {
            expect(errorOf({ offers, tasks }).message).toBe(
              `tasks[${first}].key: duplicate task key (task ${keys[first]!.join('/')})`,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports a malformed task before a duplicate key, wherever they are', () => {
    // Tasks are checked in the encoder's single pass and duplicates after it: a malformed
    // task must still win, as when the two checks were separate passes.
    const tasks = [task('r', 'd', 0), task('r', 'd', 0), task('r', 'd', 1)];
    tasks[2] = { ...tasks[2]!, resources: { ...tasks[2]!.resources, diskMb: -1 } };
    expect(errorOf({ offers, tasks }).path).toBe('tasks[2].resources.diskMb');
  });

  it('knows every placement by its index in PLACEMENTS, and nothing else', () => {
    PLACEMENTS.forEach((p, i) => expect(placementIndex(p)).toBe(i));
    expect(placementIndex(undefined)).toBe(PLACEMENTS.indexOf('GREEDY'));
    for (const bad of ['greedy', '', null, 0, 'SEPARATE ']) expect(placementIndex(bad)).toBe(-1);
  });

  it('does not mistake ids containing "/" for duplicates', () => {
    const tasks = [task('a/b', 'c', 0), task('a', 'b/c', 0)];
    expect(matchOffers({ offers, tasks }).assignments).toHaveLength(2);
  });

  it('rejects an unknown placement', () => {
    const tasks = [task('r', 'd', 0, { placement: 'ANYWHERE' as never })];
    expect(errorOf({ offers, tasks }).path).toBe('tasks[0].placement');
  });

  it('rejects a bad instance number and a non-boolean rack flag', () => {
    expect(errorOf({ offers, tasks: [task('r', 'd', -1)] }).path).toBe('tasks[0].key.instanceNo');
    const rack = [task('r', 'd', 0, { rackSensitive: 'yes' as never })];
    expect(errorOf({ offers, tasks: rack }).path).toBe('tasks[0].rackSensitive');
  });

  it('rejects bad offers, naming the agent', () => {
    const e = errorOf({ offers: [agent('a'), agent('b', { memoryMb: -5 })], tasks: [] });
    expect(e.message).toBe('offers[1].memoryMb: must be a finite number >= 0 (agent b)');
    expect(errorOf({ offers: [agent('a'), agent('a')], tasks: [] }).path).toBe('offers[1].agentId');
    const ports = [agent('a', { ports: [{ begin: 200, end: 100 }] })];
    expect(errorOf({ offers: ports, tasks: [] }).path).toBe('offers[0].ports[0].end');
    expect(errorOf({ offers: [agent('a', { state: 'GONE' as never })], tasks: [] }).path).toBe(
      'offers[0].state',
    );
  });

  it('rejects bad options', () => {
    expect(errorOf({ offers, tasks: [] }, { sampleSize: 0 }).path).toBe('options.sampleSize');
    expect(
      errorOf({ offers, tasks: [] }, { weights: { cpus: -1, memoryMb: 1, diskMb: 1 } }).path,
    ).toBe('options.weights.cpus');
  });

  it('rejects a non-object input', () => {
    expect(errorOf(null).path).toBe('input');
    expect(errorOf({ offers: {}, tasks: [] }).path).toBe('offers');
  });
});
