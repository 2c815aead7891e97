/**
 * `npm run bench -- lb`: 1,000 services × 10 upstreams on 2 lb-agents with real nginx, then
 * 500 single-upstream changes submitted at 50/s. For each change: the time from SubmitRequest
 * to SUCCESS as the client sees it (woken by a ZooKeeper watch on the request), which includes every
 * agent validating, reloading and acking; and the nginx reloads each agent did meanwhile.
 * Options: --services N, --requests N, --rate N (per second).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { stageNow } from '../../src/lb/lb-stage-log.js';
import { LbBenchCluster } from './lb-bench-cluster.js';
import { type BenchSample, stageBreakdown } from './lb-stages.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '500' },
    rate: { type: 'string', default: '50' },
  },
});
const SERVICES = Number(values.services);
const REQUESTS = Number(values.requests);
const RATE = Number(values.rate);
const UPSTREAMS = 10;
const GROUP = 'bench';
const log = (line: string): void => console.log(line);

const svc = (i: number): string => `svc-${String(i).padStart(4, '0')}`;

function waitDone(c: LbBenchCluster, id: string): Promise<string> {
  return c.waitDone(id);
}

/** Loads every service with its upstreams, 50 submissions at a time. */
async function load(c: LbBenchCluster): Promise<void> {
  const started = Date.now();
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < SERVICES) {
      const i = next++;
      const id = `load-${i}`;
      await c.call('SubmitRequest', {
        requestId: id,
        service: { serviceId: svc(i), basePath: `/${svc(i)}`, groups: [GROUP] },
        addUpstreams: c.backendAddresses.map((upstream) => ({ upstream })),
      });
      const state = await waitDone(c, id);
      if (state !== 'SUCCESS') throw new Error(`${id}: ${state}`);
      if (++done % 200 === 0)
        log(`  loaded ${done}/${SERVICES} services (${Date.now() - started} ms)`);
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Submits REQUESTS single-upstream removals at RATE/s, each on its own service. */
async function measure(
  c: LbBenchCluster,
): Promise<{ latencies: number[]; failed: number; samples: BenchSample[] }> {
  const latencies: number[] = [];
  const samples: BenchSample[] = [];
  let failed = 0;
  const started = Date.now();
  const runs: Promise<void>[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const due = started + (i * 1000) / RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const id = `change-${i}`;
    const service = svc((i * 7) % SERVICES);
    const upstream = c.backendAddresses[i % UPSTREAMS] as string;
    runs.push(
      (async () => {
        const t0 = performance.now();
        const submitted = stageNow();
        await c.call('SubmitRequest', {
          requestId: id,
          service: { serviceId: service, basePath: `/${service}`, groups: [GROUP] },
          removeUpstreams: [{ upstream }],
        });
        const state = await waitDone(c, id);
        latencies.push(performance.now() - t0);
        samples.push({ requestId: id, serviceId: service, submitted, observed: stageNow() });
        if (state !== 'SUCCESS') failed++;
      })(),
    );
    if ((i + 1) % 100 === 0) log(`  submitted ${i + 1}/${REQUESTS}`);
  }
  await Promise.all(runs);
  return { latencies, failed, samples };
}

async function main(): Promise<void> {
  log(
    `lb bench: ${SERVICES} services × ${UPSTREAMS} upstreams, 2 lb-agents, then ${REQUESTS} changes at ${RATE}/s`,
  );
  log(`machine: ${os.cpus().length} cores, node ${process.version}, ${os.cpus()[0]?.model ?? ''}`);
  const c = new LbBenchCluster();
  try {
    await c.start(GROUP, UPSTREAMS);
    log('cluster up: 1 replica, 2 lb-agents joined');
    const loadStart = Date.now();
    await load(c);
    const loadMs = Date.now() - loadStart;
    log(`loaded ${SERVICES} services in ${loadMs} ms`);
    const before = await Promise.all(c.agents.map((a) => a.status()));
    const measureStart = stageNow();
    const loadBefore = os.loadavg();
    const { latencies, failed, samples } = await measure(c);
    const loadAfter = os.loadavg();
    const after = await Promise.all(c.agents.map((a) => a.status()));
    const stages = stageBreakdown(
      samples,
      await c.leaderStages(measureStart),
      Object.fromEntries(await Promise.all(c.agents.map(async (a) => [a.id, await a.stages()]))),
    );
    const reloads = after.map((s, i) => s.reloads - (before[i]?.reloads ?? 0));
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = Math.round(percentile(sorted, 50));
    const p90 = Math.round(percentile(sorted, 90));
    const p99 = Math.round(percentile(sorted, 99));
    const max = Math.round(sorted[sorted.length - 1] ?? NaN);
    log('');
    log('| metric                        | value |');
    log('| ----------------------------- | ----- |');
    log(`| services × upstreams          | ${SERVICES} × ${UPSTREAMS} |`);
    log(`| load time (all services)      | ${loadMs} ms |`);
    log(`| changes (rate)                | ${REQUESTS} (${RATE}/s) |`);
    log(`| changes not SUCCESS           | ${failed} |`);
    log(`| submit→SUCCESS p50 / p90      | ${p50} / ${p90} ms |`);
    log(`| submit→SUCCESS p99 / max      | ${p99} / ${max} ms |`);
    log(`| nginx reloads per agent       | ${reloads.join(' / ')} |`);
    log(
      `| changes per reload (agent 1)  | ${(REQUESTS / Math.max(1, reloads[0] ?? 1)).toFixed(1)} |`,
    );
    const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
    log(`| load average before / after   | ${la(loadBefore)} / ${la(loadAfter)} |`);
    log('');
    log('Stages (critical agent = the one whose ACK reached the leader last):');
    log('');
    log('| stage | n | p50 ms | p99 ms |');
    log('| ----- | - | ------ | ------ |');
    for (const s of stages) log(`| ${s.stage} | ${s.n} | ${s.p50} | ${s.p99} |`);
    log('');
    console.log(
      JSON.stringify({
        bench: 'lb',
        services: SERVICES,
        requests: REQUESTS,
        p50_ms: p50,
        p99_ms: p99,
        reloads: Math.max(...reloads),
        loadavg_before: loadBefore.map((x) => Number(x.toFixed(2))),
        loadavg_after: loadAfter.map((x) => Number(x.toFixed(2))),
      }),
    );
  } finally {
    await c.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
