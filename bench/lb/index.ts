/**
 * `npm run bench -- lb`: 1,000 services × 10 upstreams on 2 lb-agents with real nginx, then
 * 500 single-upstream changes submitted at 50/s (members only: no reload), and side by side
 * 100 changes of a service's location at the same rate (nginx -t and a reload). For each
 * change: the time from SubmitRequest to SUCCESS as the client sees it (woken by a ZooKeeper
 * watch on the request), which includes every agent applying and acking; and the nginx
 * reloads each agent did meanwhile.
 * Options: --services N, --requests N, --config-requests N, --rate N (per second),
 * --static-upstreams (agents render plain nginx: every change reloads, as before Lua).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { stageNow } from '../../src/lb/lb-stage-events.js';
import { percentile } from '../stats.js';
import { LbBenchCluster } from './lb-bench-cluster.js';
import { type BenchSample, stageBreakdown } from './lb-stages.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    requests: { type: 'string', default: '500' },
    rate: { type: 'string', default: '50' },
    'config-requests': { type: 'string', default: '100' },
    'static-upstreams': { type: 'boolean', default: false },
  },
});
const CONFIG_REQUESTS = Number(values['config-requests']);
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

/**
 * What one change does: `upstream` removes one upstream (members only: the Lua balancer takes
 * it without a reload); `config` changes a service's location (nginx -t and a reload).
 */
type ChangeKind = 'upstream' | 'config';

function changeBody(c: LbBenchCluster, kind: ChangeKind, i: number, service: string): object {
  const base = { serviceId: service, basePath: `/${service}`, groups: [GROUP] };
  if (kind === 'config') {
    return {
      service: { ...base, options: { nginxExtraConfigs: `proxy_read_timeout ${10 + (i % 50)}s;` } },
    };
  }
  return { service: base, removeUpstreams: [{ upstream: c.backendAddresses[i % UPSTREAMS] }] };
}

interface Measured {
  latencies: number[];
  failed: number;
  samples: BenchSample[];
}

/** Submits `count` changes of `kind` at RATE/s, each on its own service. */
async function measure(c: LbBenchCluster, kind: ChangeKind, count: number): Promise<Measured> {
  const latencies: number[] = [];
  const samples: BenchSample[] = [];
  let failed = 0;
  const started = Date.now();
  const runs: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    const id = `${kind}-${i}`;
    const service = svc((i * 7) % SERVICES);
    runs.push(
      (async () => {
        const t0 = performance.now();
        const submitted = stageNow();
        await c.call('SubmitRequest', { requestId: id, ...changeBody(c, kind, i, service) });
        const state = await waitDone(c, id);
        latencies.push(performance.now() - t0);
        samples.push({ requestId: id, serviceId: service, submitted, observed: stageNow() });
        if (state !== 'SUCCESS') failed++;
      })(),
    );
    if ((i + 1) % 100 === 0) log(`  ${kind} changes submitted ${i + 1}/${count}`);
  }
  await Promise.all(runs);
  return { latencies, failed, samples };
}

/** One phase's figures: latencies (ms) and each agent's reloads during it. */
interface Phase extends Measured {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  reloads: number[];
}

async function measurePhase(c: LbBenchCluster, kind: ChangeKind, count: number): Promise<Phase> {
  const before = await Promise.all(c.agents.map((a) => a.status()));
  const m = await measure(c, kind, count);
  const after = await Promise.all(c.agents.map((a) => a.status()));
  const sorted = [...m.latencies].sort((a, b) => a - b);
  return {
    ...m,
    count,
    p50: Math.round(percentile(sorted, 50)),
    p90: Math.round(percentile(sorted, 90)),
    p99: Math.round(percentile(sorted, 99)),
    max: Math.round(sorted[sorted.length - 1] ?? NaN),
    reloads: after.map((s, i) => s.reloads - (before[i]?.reloads ?? 0)),
  };
}

async function main(): Promise<void> {
  log(
    `lb bench: ${SERVICES} services × ${UPSTREAMS} upstreams, 2 lb-agents, then ${REQUESTS} changes at ${RATE}/s`,
  );
  log(`machine: ${os.cpus().length} cores, node ${process.version}, ${os.cpus()[0]?.model ?? ''}`);
  const c = new LbBenchCluster(values['static-upstreams'] ? ['--static-upstreams'] : []);
  try {
    await c.start(GROUP, UPSTREAMS);
    log('cluster up: 1 replica, 2 lb-agents joined');
    const loadStart = Date.now();
    await load(c);
    const loadMs = Date.now() - loadStart;
    log(`loaded ${SERVICES} services in ${loadMs} ms`);
    const measureStart = stageNow();
    const loadBefore = os.loadavg();
    log(`upstream changes: ${REQUESTS} single-upstream removals at ${RATE}/s`);
    const up = await measurePhase(c, 'upstream', REQUESTS);
    log(`config changes (side by side): ${CONFIG_REQUESTS} location changes at ${RATE}/s`);
    const conf = await measurePhase(c, 'config', CONFIG_REQUESTS);
    const loadAfter = os.loadavg();
    const stages = c.stages(measureStart);
    const upStages = stageBreakdown(up.samples, stages.leader, stages.agents);
    const confStages = stageBreakdown(conf.samples, stages.leader, stages.agents);
    const row = (label: string, f: (p: Phase) => string): void =>
      log(`| ${label} | ${f(up)} | ${f(conf)} |`);
    log('');
    log(`services × upstreams: ${SERVICES} × ${UPSTREAMS}, loaded in ${loadMs} ms`);
    log('');
    log('| metric | upstream changes | config changes |');
    log('| ------ | ---------------- | -------------- |');
    row('changes (rate)', (p) => `${p.count} (${RATE}/s)`);
    row('changes not SUCCESS', (p) => String(p.failed));
    row('submit→SUCCESS p50 / p90', (p) => `${p.p50} / ${p.p90} ms`);
    row('submit→SUCCESS p99 / max', (p) => `${p.p99} / ${p.max} ms`);
    row('nginx reloads per agent', (p) => p.reloads.join(' / '));
    const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
    log(`load average before / after: ${la(loadBefore)} / ${la(loadAfter)}`);
    log('');
    log('Stages (critical agent = the one whose ACK reached the leader last), p50 / p99 ms:');
    log('');
    log('| stage | upstream changes | config changes |');
    log('| ----- | ---------------- | -------------- |');
    const ms = (s: { n: number; p50: number; p99: number }): string =>
      s.n === 0 ? '—' : `${s.p50} / ${s.p99}`;
    upStages.forEach((s, i) => log(`| ${s.stage} | ${ms(s)} | ${ms(confStages[i] ?? s)} |`));
    log('');
    console.log(
      JSON.stringify({
        bench: 'lb',
        services: SERVICES,
        requests: REQUESTS,
        p50_ms: up.p50,
        p99_ms: up.p99,
        reloads: Math.max(...up.reloads),
        config_requests: CONFIG_REQUESTS,
        config_p50_ms: conf.p50,
        config_p99_ms: conf.p99,
        config_reloads: Math.max(...conf.reloads),
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
