/**
 * `npm run bench -- offers [--quick]`: the offer matcher on three synthetic scenarios
 * (1k tasks × 100 agents, 10k × 1k, 100k × 10k), each matched three ways in the same run:
 *
 * - pool:     OfferMatcherPool with one thread per core (the pool forced on, whatever the size);
 * - single:   the same engine with a pool of one thread (baseline 1);
 * - fullscan: matchOffers with selection 'full', scoring every feasible offer for every task,
 *             the O(pending × offers) loop Singularity uses (baseline 2), on the calling thread.
 *
 * For the largest scenario it also prints where the pool's wall time goes (the serial part on
 * the calling thread, the wait for the workers, from OfferMatcherPool.lastCycle) and the
 * speedup the pool's threads could give at best with that serial part (Amdahl).
 *
 * Then the small-input crossover: matchOffers on the calling thread against the pool, by
 * size, which sets DEFAULT_MIN_TASKS_FOR_POOL. The last line is one JSON object for the
 * largest scenario. `--quick` skips the 100k scenario's full scan (minutes) and says so.
 */
import os from 'node:os';
import {
  OfferMatcherPool,
  matchOffers,
  type CycleTimings,
  type MatchInput,
  type MatchResult,
} from '../../src/offers/index.js';
import { median } from '../stats.js';
import { findOvercommits, formatTable, timed, utilization } from './measure.js';
import { makeScenario } from '../../src/dev/index.js';

const SCENARIOS = [
  { tasks: 1_000, agents: 100, runs: 7 },
  { tasks: 10_000, agents: 1_000, runs: 5 },
  { tasks: 100_000, agents: 10_000, runs: 5 },
] as const;

const log = (line: string): void => console.log(line);

interface Measured {
  ms: number;
  result: MatchResult;
  /** Medians of the pool's own split of its cycles (OfferMatcherPool.lastCycle). */
  split?: { serialMs: number; matchMs: number };
}

function check(name: string, input: MatchInput, result: MatchResult): void {
  const problems = findOvercommits(input, result);
  if (problems.length > 0)
    throw new Error(`${name}: invalid result: ${problems.slice(0, 5).join('; ')}`);
}

/**
 * Times the pool and the one-thread pool in alternation (pool, single, pool, single…) after
 * one warm-up each, and keeps the medians: on a shared machine both then see the same
 * background load, so their ratio means something even when the absolute times drift.
 */
async function runPools(
  pools: { multi: OfferMatcherPool; one: OfferMatcherPool },
  input: MatchInput,
  runs: number,
): Promise<{ pool: Measured; single: Measured }> {
  await pools.multi.match(input); // warm-up: JIT in the workers, not part of the figure
  await pools.one.match(input);
  const times = { pool: [] as number[], single: [] as number[] };
  const splits = { pool: [] as CycleTimings[], single: [] as CycleTimings[] };
  let last: { pool?: MatchResult; single?: MatchResult } = {};
  for (let i = 0; i < runs; i++) {
    const p = await timed(() => pools.multi.match(input));
    if (pools.multi.lastCycle) splits.pool.push(pools.multi.lastCycle);
    const s = await timed(() => pools.one.match(input));
    if (pools.one.lastCycle) splits.single.push(pools.one.lastCycle);
    times.pool.push(p.ms);
    times.single.push(s.ms);
    last = { pool: p.value, single: s.value };
  }
  const split = (xs: CycleTimings[]) =>
    xs.length === 0
      ? undefined
      : { serialMs: median(xs.map((x) => x.serialMs)), matchMs: median(xs.map((x) => x.matchMs)) };
  return {
    pool: { ms: median(times.pool), result: last.pool!, split: split(splits.pool) },
    single: { ms: median(times.single), result: last.single!, split: split(splits.single) },
  };
}

type Row = {
  label: string;
  pool: Measured;
  single: Measured;
  full: Measured | undefined;
  input: MatchInput;
};

function rowsOf(r: Row): (string | number)[][] {
  const line = (name: string, m: Measured | undefined): (string | number)[] => {
    if (!m) return [r.label, name, 'skipped', '-', '-', '-', '-'];
    const u = utilization(r.input, m.result);
    return [
      r.label,
      name,
      m.ms.toFixed(0),
      Math.round((m.result.assignments.length / m.ms) * 1000),
      m.result.assignments.length,
      u.cpu.toFixed(1),
      u.mem.toFixed(1),
    ];
  };
  return [line('pool', r.pool), line('single', r.single), line('fullscan', r.full)];
}

async function scenario(
  spec: (typeof SCENARIOS)[number],
  pools: { multi: OfferMatcherPool; one: OfferMatcherPool },
  skipFull: boolean,
): Promise<Row> {
  const label = `${spec.tasks / 1000}k×${spec.agents >= 1000 ? `${spec.agents / 1000}k` : spec.agents}`;
  const input = makeScenario(spec.tasks, spec.agents, 42);
  log(
    `[offers] ${label}: pool (${pools.multi.threads} threads) and single (pool of 1 thread), ` +
      `alternating, median of ${spec.runs}…`,
  );
  const { pool, single } = await runPools(pools, input, spec.runs);
  let full: Measured | undefined;
  if (!skipFull) {
    log(`[offers] ${label}: fullscan (every feasible offer scored for every task)…`);
    const r = await timed(() => matchOffers(input, { selection: 'full' }));
    full = { ms: r.ms, result: r.value };
  }
  for (const [name, m] of [
    ['pool', pool],
    ['single', single],
    ['fullscan', full],
  ] as const) {
    if (m) check(`${label} ${name}`, input, m.result);
  }
  return { label, pool, single, full, input };
}

async function crossover(pool: OfferMatcherPool): Promise<number | undefined> {
  const sizes = [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000];
  const rows: (string | number)[][] = [['tasks', 'agents', 'inline ms', 'pool ms', 'faster']];
  const poolWins: boolean[] = [];
  for (const tasks of sizes) {
    const input = makeScenario(tasks, Math.max(10, tasks / 10), 7);
    matchOffers(input);
    await pool.match(input);
    const inline = { runs: [] as number[], ms: 0 };
    const pooled = { runs: [] as number[], ms: 0 };
    for (let i = 0; i < 9; i++) {
      inline.runs.push((await timed(() => matchOffers(input))).ms);
      pooled.runs.push((await timed(() => pool.match(input))).ms);
    }
    inline.ms = median(inline.runs);
    pooled.ms = median(pooled.runs);
    poolWins.push(pooled.ms < inline.ms);
    rows.push([
      tasks,
      Math.max(10, tasks / 10),
      inline.ms.toFixed(2),
      pooled.ms.toFixed(2),
      pooled.ms < inline.ms ? 'pool' : 'inline',
    ]);
  }
  log(formatTable(rows));
  // The threshold: the smallest size from which the pool wins at every larger size too.
  const from = poolWins.findIndex((_, i) => poolWins.slice(i).every(Boolean));
  return from < 0 ? undefined : sizes[from];
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const threads = os.availableParallelism();
  log(
    `[offers] node ${process.version}, ${threads} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}`,
  );
  // Wall times on a shared 2-core machine depend on what else runs: say how busy it was.
  const load = (): string =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  log(`[offers] load average at start: ${load()}`);
  const multi = new OfferMatcherPool({ threads, minTasksForPool: 0 });
  const one = new OfferMatcherPool({ threads: 1, minTasksForPool: 0 });
  try {
    const rows: Row[] = [];
    for (const spec of SCENARIOS) {
      rows.push(await scenario(spec, { multi, one }, quick && spec.tasks === 100_000));
    }
    log('');
    log(
      formatTable([
        ['scenario', 'matcher', 'wall ms', 'placements/s', 'placed', 'cpu %', 'mem %'],
        ...rows.flatMap(rowsOf),
      ]),
    );
    log('');
    log(
      `[offers] small-input crossover (alternating, median of 9; inline = matchOffers on the calling thread):`,
    );
    const threshold = await crossover(multi);
    log(`[offers] measured crossover: pool faster from ${threshold ?? 'never (within 16k)'} tasks`);
    log(`[offers] load average at end: ${load()}`);
    const big = rows[rows.length - 1]!;
    const fullMs = big.full?.ms ?? null;
    const serialMs = big.pool.split?.serialMs ?? 0;
    const p1 = big.single.split?.matchMs ?? 0;
    const p2 = big.pool.split?.matchMs ?? 0;
    // Amdahl: the serial part S (the time the calling thread is busy: validating and encoding
    // the input, verifying every proposal, the second pass, the result objects) is paid by
    // both; only the wait for the workers shrinks, at best to P1 / threads.
    const bound = (serialMs + p1) / (serialMs + p1 / multi.threads);
    log(
      `[offers] ${big.label} split (medians): serial on the calling thread ` +
        `${serialMs.toFixed(0)} ms (pool) / ${(big.single.split?.serialMs ?? 0).toFixed(0)} ms ` +
        `(single); idle, waiting for workers ${p2.toFixed(0)} ms (${multi.threads} threads) / ` +
        `${p1.toFixed(0)} ms (1 thread); workers' speedup ${(p1 / p2).toFixed(2)}; ` +
        `whole-cycle speedup bound with a perfect ${multi.threads}x on the workers: ` +
        bound.toFixed(2),
    );
    log(
      JSON.stringify({
        bench: 'offers',
        tasks: 100_000,
        agents: 10_000,
        pool_ms: Math.round(big.pool.ms),
        single_ms: Math.round(big.single.ms),
        fullscan_ms: fullMs === null ? null : Math.round(fullMs),
        placed: big.pool.result.assignments.length,
        placed_fullscan: big.full?.result.assignments.length ?? null,
        speedup_vs_single: Number((big.single.ms / big.pool.ms).toFixed(2)),
        speedup_vs_fullscan: fullMs === null ? null : Number((fullMs / big.pool.ms).toFixed(2)),
        serial_ms: Math.round(serialMs),
        workers_ms_pool: Math.round(p2),
        workers_ms_single: Math.round(p1),
        speedup_bound: Number(bound.toFixed(2)),
        ...(quick ? { note: 'quick run: the 100k fullscan was skipped' } : {}),
      }),
    );
  } finally {
    await Promise.all([multi.close(), one.close()]);
  }
}

await main();
