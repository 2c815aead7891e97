/**
 * The Piscina pool: valid and deterministic results, nearly as many placements as the
 * single-threaded path, and a verifier that refuses hostile worker output. Needs the
 * compiled worker (dist/src/offers/offer-worker.js): `npm test` builds first.
 */
import fc from 'fast-check';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScenario } from '../../../src/dev/index.js';
import { OfferMatcherPool, matchOffers, resolveMatchOptions } from '../../../src/offers/index.js';
import { FEASIBILITY_STAGES, firstRejection } from '../../../src/offers/feasibility.js';
import { MatchPipeline } from '../../../src/offers/match-pipeline.js';
import { settleCycle } from '../../../src/offers/cycle-settler.js';
import { resolveWorkerFile } from '../../../src/offers/offer-pool.js';
import { encodeCycle, encodeSnapshot } from '../../../src/offers/snapshot-encoder.js';
import { world } from './arbitraries.js';
import { checkResult } from './independent-checker.js';

let pool: OfferMatcherPool;

beforeAll(() => {
  pool = new OfferMatcherPool({ threads: 2, minTasksForPool: 0 });
});

afterAll(async () => {
  await pool.close();
});

describe('OfferMatcherPool', () => {
  it('produces results that pass the independent re-check, identically on every call', async () => {
    await fc.assert(
      fc.asyncProperty(world, fc.integer({ min: 0, max: 1000 }), async (input, seed) => {
        const first = await pool.match(input, { seed, fullScanBelow: 0, sampleSize: 4 });
        expect(checkResult(input, first)).toEqual([]);
        expect(await pool.match(input, { seed, fullScanBelow: 0, sampleSize: 4 })).toEqual(first);
      }),
      { numRuns: 40 },
    );
  });

  it('places at least 99% as many tasks as the single-threaded path on a busy fleet', async () => {
    // 4k tasks on 200 agents: more demand than room, so packing quality shows.
    const input = makeScenario(4_000, 200, 11);
    const single = matchOffers(input);
    const pooled = await pool.match(input);
    expect(checkResult(input, single, 0.5, false)).toEqual([]);
    expect(checkResult(input, pooled, 0.5, false)).toEqual([]);
    expect(single.unplaced.length).toBeGreaterThan(0);
    expect(pooled.assignments.length).toBeGreaterThanOrEqual(0.99 * single.assignments.length);
  });

  it('runs small inputs on the calling thread, with the same result as matchOffers', async () => {
    const inline = new OfferMatcherPool({ threads: 2, minTasksForPool: 1_000_000 });
    try {
      const input = makeScenario(300, 30, 5);
      expect(await inline.match(input, { seed: 9 })).toEqual(matchOffers(input, { seed: 9 }));
    } finally {
      await inline.close();
    }
  });

  it('rejects bad input like matchOffers, placing nothing', async () => {
    const input = makeScenario(50, 5, 1);
    const bad = {
      ...input,
      tasks: input.tasks.map((t, i) =>
        i === 7 ? { ...t, resources: { ...t.resources, cpus: -1 } } : t,
      ),
    };
    await expect(pool.match(bad)).rejects.toThrow(
      /^tasks\[7\]\.resources\.cpus: must be a finite number >= 0/,
    );
  });
});

describe('OfferMatcherPool when a worker fails', () => {
  it('rejects with the worker error and leaves no dangling rejection', async () => {
    const failing = new OfferMatcherPool({
      threads: 2,
      minTasksForPool: 0,
      workerFile: path.join(import.meta.dirname, 'failing-worker.mjs'),
    });
    try {
      await expect(failing.match(makeScenario(200, 20, 3))).rejects.toThrow(/^worker failed/);
    } finally {
      await failing.close();
    }
  });
});

describe('OfferMatcherPool input checks (tasks are checked before dispatch)', () => {
  it.each([
    ['a null task', (tasks: unknown[]) => (tasks[3] = null), /^tasks\[3\]: must be an object$/],
    [
      'a task without a key',
      (tasks: unknown[]) => (tasks[4] = { resources: {} }),
      /^tasks\[4\]\.key: must be an object$/,
    ],
    [
      'a duplicate key',
      (tasks: unknown[]) => (tasks[5] = tasks[2]),
      /^tasks\[5\]\.key: duplicate task key/,
    ],
    [
      'an unknown placement',
      (tasks: unknown[]) => (tasks[6] = { ...(tasks[6] as object), placement: 'X' }),
      /^tasks\[6\]\.placement/,
    ],
  ])('rejects %s and places nothing', async (_, spoil, message) => {
    const input = makeScenario(60, 6, 2);
    const tasks: unknown[] = [...input.tasks];
    spoil(tasks);
    await expect(pool.match({ offers: input.offers, tasks } as never)).rejects.toThrow(message);
  });
});

describe('settleCycle (the main-thread verifier) with fake worker output', () => {
  it('refuses proposals that over-commit, reuse ports, repeat tasks or point nowhere', () => {
    fc.assert(
      fc.property(
        world,
        fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 400 }),
        (input, noise) => {
          const options = resolveMatchOptions({ seed: 3 });
          const cycle = encodeCycle(input, options);
          // Hostile "worker": proposes arbitrary (task, offer, ports) triples.
          const flat: number[] = [];
          for (let i = 0; i + 3 < noise.length; i += 4) {
            const ports = Math.abs(noise[i + 2]!) % 3;
            flat.push(noise[i]!, noise[i + 1]! % Math.max(1, input.offers.length), ports);
            for (let p = 0; p < ports; p++) flat.push(31_000 + (Math.abs(noise[i + 3]! + p) % 4));
          }
          const result = settleCycle(
            cycle,
            options,
            [Int32Array.from(flat), Int32Array.from(flat)],
            2,
          );
          expect(checkResult(input, result)).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('firstRejection, the stage-by-stage check of the pipeline and the verifier', () => {
  it('checks the same stages as FEASIBILITY_STAGES', () => {
    // A new stage must be added to firstRejection too; this count is the reminder.
    expect(FEASIBILITY_STAGES).toHaveLength(9);
  });

  it('answers what the loop over FEASIBILITY_STAGES answers, on every pair, before and after placements', () => {
    fc.assert(
      fc.property(world, (input) => {
        const options = resolveMatchOptions({ seed: 5 });
        const snap = encodeSnapshot(input, options);
        const pipeline = new MatchPipeline(snap, options, 5);
        const agree = (): void => {
          for (let t = 0; t < snap.taskCount; t++) {
            for (let o = 0; o < snap.offerCount; o++) {
              const reference = FEASIBILITY_STAGES.reduce(
                (reason, stage) => (reason !== 0 ? reason : stage(pipeline.context, t, o)),
                0,
              );
              expect(firstRejection(pipeline.context, t, o)).toBe(reference);
            }
          }
        };
        agree();
        pipeline.run(
          snap.taskOrder,
          Int32Array.from({ length: snap.offerCount }, (_, i) => i),
        );
        agree();
      }),
      { numRuns: 150 },
    );
  });
});

describe('resolveWorkerFile', () => {
  const root = path.resolve(import.meta.dirname, '..', '..', '..');
  it('uses the build output when the pool module runs from TypeScript sources', () => {
    const url = pathToFileURL(path.join(root, 'src', 'offers', 'offer-pool.ts')).href;
    expect(resolveWorkerFile(url)).toBe(
      path.join(root, 'dist', 'src', 'offers', 'offer-worker.js'),
    );
  });
  it('uses the sibling file when the pool module is the compiled .js', () => {
    const url = pathToFileURL(path.join(root, 'dist', 'src', 'offers', 'offer-pool.js')).href;
    expect(resolveWorkerFile(url)).toBe(
      path.join(root, 'dist', 'src', 'offers', 'offer-worker.js'),
    );
  });
});
