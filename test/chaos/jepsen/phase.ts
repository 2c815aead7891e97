/**
 * The chaos phase: set up the workload, then run every client and the nemesis for the given
 * minutes with a progress line every ten seconds; at the end, stop the nemesis, heal every
 * fault and stop the clients (each finishes its operation in flight).
 */
import path from 'node:path';
import type { ChaosCluster } from './cluster/chaos-cluster.js';
import type { LinkCutter } from './cluster/link-cut.js';
import { Nemesis } from './nemesis/nemesis.js';
import { planSchedule } from './nemesis/schedule.js';
import type { ChaosOptions } from './options.js';
import { Rng } from './rng.js';
import { runCleanupClient } from './workload/cleanup-client.js';
import { WorkloadContext } from './workload/context.js';
import { History } from './workload/history.js';
import { runHostileClient, selectProbes } from './workload/hostile.js';
import { ExplicitLbRouting, type LbRouting, ProductLbRouting } from './workload/lb-router.js';
import { runNginxClient, runReader } from './workload/readers.js';
import { setUpWorkload } from './workload/setup.js';
import { DeploySerials, runEphemeralClient, runWebClient, runWriter } from './workload/writers.js';

/** What the chaos phase leaves for the checker. */
export interface PhaseResult {
  history: History;
  nemesis: Nemesis;
  /** When set-up ended: `hostile_target` must not change after it. */
  setupEndMs: number;
}

/** Runs the chaos phase. */
export async function runChaosPhase(
  o: ChaosOptions,
  dir: string,
  cluster: ChaosCluster,
  cutter: LinkCutter | undefined,
  cutUnavailable: string | undefined,
  say: (line: string) => void,
): Promise<PhaseResult> {
  const root = Rng.of(o.seed);
  const nemesisRng = root.split();
  const rng = root.split();
  const plan = planSchedule(nemesisRng, {
    durationMs: o.minutes * 60_000,
    kinds: o.nemesis,
    gapMs: o.faultGapMs,
    sessionTimeoutMs: o.sessionTimeoutMs,
    agentDownMs: o.agentDownMs,
    pauseExtraMs: o.pauseExtraMs,
  });
  say(
    `nemesis: ${plan.length} faults planned (${[...new Set(plan.map((f) => f.kind))].join(', ') || 'none'})`,
  );
  const history = new History();
  const replicas = cluster.replicas.map((r) => ({ id: r.id, url: r.url }));
  const ctx = new WorkloadContext(history, replicas, `http://127.0.0.1:${cluster.lb.nginxPort}`);
  const serials = new DeploySerials();
  const routing: LbRouting =
    o.lbRouting === 'explicit' ? new ExplicitLbRouting(ctx, rng.split()) : new ProductLbRouting();
  say('setting up the workload');
  const { routingLoop } = await setUpWorkload(ctx, rng.split(), serials, routing);
  const setupEndMs = Date.now();
  const clients = [
    routingLoop,
    ...Array.from({ length: o.writers }, (_, i) =>
      runWriter(ctx, `writer-${i + 1}`, rng.split(), serials),
    ),
    runWebClient(ctx, rng.split(), routing),
    runEphemeralClient(ctx, rng.split(), serials),
    ...replicas.map((r) => runReader(ctx, r, rng.split())),
    runNginxClient(ctx, rng.split()),
    runHostileClient(ctx, rng.split(), selectProbes(o.knownIssues)),
    ...cluster.agents.map((a) =>
      runCleanupClient(ctx, rng.split(), a, path.join(dir, 'cleanup', a.id)),
    ),
  ];
  const nemesis = new Nemesis(cluster, cutter, cutUnavailable, say);
  const startedAt = Date.now();
  say(`chaos phase: ${o.minutes} min, ${clients.length} clients`);
  const progress = setInterval(
    () => void progressLine(cluster, history, nemesis, startedAt).then(say),
    10_000,
  );
  const nemesisDone = nemesis.run(plan, startedAt);
  await ctx.sleep(o.minutes * 60_000);
  nemesis.stop();
  await nemesisDone;
  await nemesis.healAll();
  ctx.stop();
  say('stopping the clients');
  await Promise.race([Promise.all(clients), new Promise((r) => setTimeout(r, 60_000))]);
  clearInterval(progress);
  return { history, nemesis, setupEndMs };
}

async function progressLine(
  cluster: ChaosCluster,
  history: History,
  nemesis: Nemesis,
  startedAt: number,
): Promise<string> {
  const c = history.counts();
  const leader = await cluster.leader();
  const nginx = history.ops.filter((op) => op.kind === 'nginx').slice(-50);
  const served = nginx.filter((op) => op.outcome === 'ok').length;
  return (
    `${Math.round((Date.now() - startedAt) / 1000)} s: ${history.ops.length} ops ` +
    `(${c.ok} ok, ${c.fail} fail, ${c.info} info), ` +
    `${nemesis.records.filter((f) => !f.skipped).length} faults, ` +
    `leader ${leader?.id ?? 'none'}, nginx ${served}/${nginx.length} ok`
  );
}
