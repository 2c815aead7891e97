/**
 * `npm run bench -- deploy`: a load-balanced service of 100 instances on 4 real agents behind
 * 2 lb-agents with their own nginx, 3 scheduler replicas and a real ZooKeeper, deployed
 * v1 → v2 in steps of 10 while a client sends 200 requests/s through both nginx in turn; then
 * a deploy v3 whose health check never passes, rolled back.
 *
 * Figures, from the product's own records where it has them (src/state task and progress
 * records, the deploy history, the load-balancer service record):
 * - deploy_ms: v2 submitted → its result SUCCEEDED (the result's timestamp);
 * - failed_requests: non-2xx answers or connection errors through nginx over the whole run;
 * - step_overhead_p99_ms: last new task of a step healthy → next step's first launch
 *   (step-times.ts);
 * - rollback_ms: v3's failure (the rollback's start in its progress) → the FAILED result
 *   written with v2 at full count, and only v2, in the service every lb-agent applied.
 * Ends with one JSON line. Every process it started is stopped on success, failure, Ctrl-C.
 */
import os from 'node:os';
import type { Coordinator } from '../../src/coordination/index.js';
import type { LbRequestStore } from '../../src/lb/index.js';
import type { Task, TaskStore } from '../../src/state/index.js';
import type { TrafficAnswer, TrafficClient } from '../../test/harness/lb-traffic.js';
import { startPacedTraffic } from '../../test/harness/lb-traffic.js';
import { DeployBenchCluster } from './deploy-cluster.js';
import { ProgressLog, lbRequestsOf } from './deploy-records.js';
import {
  REQUEST_ID,
  SERVICE_PATH,
  createRequest,
  submitDeploy,
  waitResult,
  waitServingExactly,
} from './deploy-scenario.js';
import { percentile } from '../stats.js';
import { type StepBoundary, stepBoundaries } from './step-times.js';

const INSTANCES = Number(process.env.DEPLOY_BENCH_INSTANCES ?? 100);
const STEP = Number(process.env.DEPLOY_BENCH_STEP ?? 10);
const RATE = Number(process.env.DEPLOY_BENCH_RATE ?? 200);
const STEPS = Math.ceil(INSTANCES / STEP);
const GOAL_OVERHEAD_P99_MS = 500;

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Prints a progress line every few seconds while `deployId` runs. */
function progressLines(log: ProgressLog, deployId: string, traffic: TrafficClient): () => void {
  const timer = setInterval(() => {
    const p = log.latest(deployId);
    const where = p
      ? `step ${p.step}/${STEPS} ${p.phase.toLowerCase()}, ` +
        `${p.currentActiveInstances}/${p.targetActiveInstances} new serving`
      : 'not taken up yet';
    say(
      `  ${deployId}: ${where}; requests ${traffic.answers.length}, ` +
        `failures ${traffic.failures().length}; load ${load()}`,
    );
  }, 3_000);
  return () => clearInterval(timer);
}

/**
 * Where each step boundary's time went, from the deploy's LB requests inside it (submitted
 * → done on every lb-agent, relative to the last new task being healthy): which one added
 * that task, and how long the leader then took from the last request's end to the launches.
 */
async function explain(
  c: DeployBenchCluster,
  bounds: readonly StepBoundary[],
  tasks: readonly Task[],
  prefix: string,
): Promise<void> {
  const lbs = await lbRequestsOf(c.lbStore as LbRequestStore, prefix);
  const upstream = new Map(tasks.map((t) => [t.taskId, `${t.host}:${t.ports[0]}`]));
  for (const s of bounds) {
    const last = upstream.get(s.lastHealthyTask);
    const inside = lbs.filter(
      (r) => r.updatedAt >= s.lastHealthyAt && r.submittedAt <= s.nextLaunchAt,
    );
    const parts = inside.map((r) => {
      const adds = r.request.addUpstreams ?? [];
      const mark = adds.some((u) => u.upstream === last) ? ' *' : '';
      return (
        `+${r.submittedAt - s.lastHealthyAt}…+${r.updatedAt - s.lastHealthyAt}` +
        ` ${adds.length}a/${r.request.removeUpstreams?.length ?? 0}r${mark}`
      );
    });
    const lastDone = Math.max(s.lastHealthyAt, ...inside.map((r) => r.updatedAt));
    say(
      `  step ${s.step}→${s.step + 1}: ${s.overheadMs} ms = lb [${parts.join(', ')}]` +
        ` + ${s.nextLaunchAt - lastDone} ms from the last lb request done to the launches`,
    );
  }
  say('  (lb +submitted…+done ms after the last healthy, a adds / r removes, * adds that task)');
}

function describeFailures(failures: readonly TrafficAnswer[]): void {
  for (const f of failures.slice(0, 20)) {
    say(
      `  failed: ${new Date(f.at).toISOString()} nginx :${f.nginxPort} status ${f.status} ${f.error ?? ''}`,
    );
  }
}

async function run(c: DeployBenchCluster): Promise<void> {
  say(
    `deploy bench: ${INSTANCES} instances, steps of ${STEP}, ${RATE} requests/s; node ${process.version}, ${os.cpus().length} cores, load ${load()}`,
  );
  await c.start();
  say(
    `cluster up: 3 replicas, 4 agents, 2 lb-agents (nginx :${c.nginxPorts().join(', :')}); load ${load()}`,
  );
  const log = new ProgressLog(c.zk as Coordinator, REQUEST_ID);
  await createRequest(c, INSTANCES);
  let t = Date.now();
  await submitDeploy(c, 'v1');
  const v1 = await waitResult(c, 'v1');
  if (v1.deployState !== 'SUCCEEDED') throw new Error(`v1 ended ${JSON.stringify(v1)}`);
  await waitServingExactly(c, 'v1', INSTANCES);
  say(`v1 serving ${INSTANCES} behind both nginx after ${Date.now() - t} ms; load ${load()}`);

  const traffic = startPacedTraffic(c.nginxPorts(), `${SERVICE_PATH}/bench`, RATE);
  try {
    const submitted = await submitDeploy(c, 'v2', { deployInstanceCountPerStep: STEP });
    let stopLines = progressLines(log, 'v2', traffic);
    const v2 = await waitResult(c, 'v2').finally(stopLines);
    if (v2.deployState !== 'SUCCEEDED') throw new Error(`v2 ended ${JSON.stringify(v2)}`);
    const deployMs = v2.timestamp - submitted;
    const loadAfterV2 = load();
    say(
      `v2 ${v2.deployState} after ${deployMs} ms; requests ${traffic.answers.length}, failures ${traffic.failures().length}`,
    );
    const store = c.taskStore as TaskStore;
    const v2Tasks = [...(await store.activeOf(REQUEST_ID)), ...(await store.historyOf(REQUEST_ID))];
    const boundaries = stepBoundaries(v2Tasks, 'v2', INSTANCES, STEP);
    await explain(c, boundaries, v2Tasks, `${REQUEST_ID}-v2-`);

    t = await submitDeploy(c, 'v3', {
      deployInstanceCountPerStep: STEP,
      env: { DEMO_START_DELAY_MS: '3600000' },
      healthcheck: { uri: '/health', startupIntervalSeconds: 1, startupTimeoutSeconds: 10 },
    });
    stopLines = progressLines(log, 'v3', traffic);
    const v3 = await waitResult(c, 'v3').finally(stopLines);
    const fullAt = await waitServingExactly(c, 'v2', INSTANCES);
    const failedAt = log.rollbackStartedAt('v3');
    if (v3.deployState !== 'FAILED' || failedAt === undefined) {
      throw new Error(`v3 ended ${JSON.stringify(v3)}, rollback seen at ${failedAt}`);
    }
    const rollbackMs = Math.max(v3.timestamp, fullAt) - failedAt;
    say(
      `v3 ${v3.deployState} (${v3.message}) ${failedAt - t} ms after submit; rolled back in ${rollbackMs} ms (result +${v3.timestamp - failedAt} ms, v2 at full count in every nginx since +${fullAt - failedAt} ms)`,
    );
    // A little more traffic on the restored service, then the client stops.
    await new Promise((r) => setTimeout(r, 3_000));
    const answers = await traffic.stop();
    const failures = traffic.failures();
    describeFailures(failures);
    report({
      deployMs,
      failures: failures.length,
      requests: answers.length,
      boundaries,
      rollbackMs,
      loadAfterV2,
    });
  } finally {
    log.stop();
    await traffic.stop();
  }
}

function report(r: {
  deployMs: number;
  failures: number;
  requests: number;
  boundaries: StepBoundary[];
  rollbackMs: number;
  loadAfterV2: string;
}): void {
  const overheads = r.boundaries.map((b) => b.overheadMs);
  const p99 = Math.round(percentile(overheads, 99));
  say('');
  say(`machine load (1/5/15 min): after v2 ${r.loadAfterV2}, at the end ${load()}`);
  say(`step overheads (ms): ${overheads.join(' ')}`);
  say('figure                  value   goal');
  say(`deploy_ms             ${String(r.deployMs).padStart(7)}   —`);
  say(
    `failed_requests       ${String(r.failures).padStart(7)}   0 → ${r.failures === 0 ? 'met' : 'MISSED'} (of ${r.requests})`,
  );
  say(
    `step_overhead_p99_ms  ${String(p99).padStart(7)}   ≤ ${GOAL_OVERHEAD_P99_MS} → ${p99 <= GOAL_OVERHEAD_P99_MS ? 'met' : 'MISSED'}`,
  );
  say(`rollback_ms           ${String(r.rollbackMs).padStart(7)}   —`);
  say(
    JSON.stringify({
      bench: 'deploy',
      instances: INSTANCES,
      steps: STEPS,
      deploy_ms: r.deployMs,
      failed_requests: r.failures,
      step_overhead_p99_ms: p99,
      rollback_ms: r.rollbackMs,
    }),
  );
}

const cluster = new DeployBenchCluster({
  replicas: 3,
  agents: 4,
  lbAgents: 2,
  // 30 tasks of 0.1 cpu each per agent: 120 slots for the 110 a step needs at its peak.
  agentResources: { cpus: 3, memoryMb: 2048, ports: 100 },
  sessionTimeoutMs: 8_000,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping every process the bench started`);
    void cluster.stop().finally(() => process.exit(130));
  });
}
run(cluster)
  .then(() => cluster.stop())
  .catch(async (err: unknown) => {
    process.stderr.write(
      `deploy bench failed: ${err instanceof Error ? err.stack : String(err)}\n`,
    );
    await cluster.stop();
    process.exit(1);
  });
