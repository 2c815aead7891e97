/**
 * Upgrade benchmark: the cluster of the ansible upgrade test (3 ZooKeeper, 3 schedulers,
 * 2 agents running the load-balanced demo service, 1 lb-agent with nginx), installed by
 * deploy/ansible's site.yml at release N, then taken to N+1 by rolling-upgrade.yml while the
 * test's load client runs: reads on every replica, writes retried on retryable errors,
 * requests through nginx. Prints progress, then one JSON line of figures.
 *
 * Goal: every failure count 0, one leader change (the planned step-down), and a read p99
 * during the upgrade within 2x of the p99 before it.
 *
 * Usage: npm run bench -- upgrade [--baseline-reads 600] [--keep]
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { waitFor } from '../../src/dev/wait-for.js';
import { AnsibleCluster, packageRelease } from '../../test/harness/ansible-cluster.js';
import { DEMO, deployDemo, demoTasks, routeDemo } from '../../test/harness/upgrade-demo.js';
import { UpgradeLoad, missingWrites } from '../../test/harness/upgrade-load.js';

const { values } = parseArgs({
  options: {
    'baseline-reads': { type: 'string', default: '600' },
    keep: { type: 'boolean', default: false },
  },
});
const BASELINE_READS = Number(values['baseline-reads']);
const N = '0.1.0-bench.1';
const N1 = '0.1.0-bench.2';
const say = (line: string): void => void process.stdout.write(`[bench upgrade] ${line}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-bench-upgrade-'));
  chmodSync(dir, 0o755); // nginx's workers (nobody) traverse to the lb-agent's files
  const shape = { zookeeper: 3, schedulers: 3, agents: 2, lbAgents: 1 };
  const cluster = await AnsibleCluster.create(dir, shape);
  try {
    say(`packaging ${N} and ${N1}`);
    const releases = path.join(dir, 'releases');
    await Promise.all([packageRelease(N, releases), packageRelease(N1, releases)]);
    say(`site.yml: installing ${N} on ${cluster.hosts.length} hosts`);
    const site = await cluster.runPlaybook('site.yml', { thales_version: N });
    if (site.code !== 0) throw new Error(`site.yml failed (${site.logFile}):\n${site.tail}`);
    const api = cluster.schedulerUrls[0] as string;
    const tasks = await deployDemo(api, 3);
    await routeDemo(api, cluster.lbGroup, tasks);

    const load = new UpgradeLoad({
      replicas: cluster.schedulerUrls,
      lbUrl: `${cluster.lb.nginxUrl}${DEMO.basePath}`,
      demoRequestId: DEMO.requestId,
      demoTaskIds: tasks.map((t) => t.taskId),
      writePrefix: 'bench',
    });
    load.start();
    say(`baseline: ${BASELINE_READS} reads before the upgrade`);
    await waitFor('the baseline reads', () => load.progress.reads >= BASELINE_READS, {
      timeoutMs: 600_000,
      intervalMs: 500,
    });
    load.phase('during');
    say(`rolling-upgrade.yml: ${N} -> ${N1} under load`);
    const upgrade = await cluster.runPlaybook(
      'rolling-upgrade.yml',
      { thales_version: N1, zookeeper_restart: 'always' },
      (line) => say(line),
    );
    load.phase('after');
    const atEnd = load.progress.reads;
    await waitFor('reads after the upgrade', () => load.progress.reads >= atEnd + 60, {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await load.stop();
    if (upgrade.code !== 0)
      throw new Error(`rolling-upgrade.yml failed (${upgrade.logFile}):\n${upgrade.tail}`);

    const report = load.report();
    const missing = await missingWrites(cluster.schedulerUrls, load.acked);
    const after = await demoTasks(api);
    const relaunched = tasks.filter(
      (t) => !after.some((a) => a.taskId === t.taskId && a.pid === t.pid),
    );
    const onN1 = cluster.processReleases().filter((p) => p.release === `thales-${N1}`).length;
    for (const f of [
      ...report.reads.failures,
      ...report.writes.failures,
      ...report.lb.failures,
      ...missing,
    ]) {
      say(`failure: ${f}`);
    }
    say(`leaders: ${report.leader.sequence.join(' -> ')}`);
    say(`read latency: ${JSON.stringify(report.readLatency)}`);
    const before = report.readLatency.before?.p99 ?? 0;
    const during = report.readLatency.during?.p99 ?? 0;
    console.log(
      JSON.stringify({
        bench: 'upgrade',
        hosts: cluster.hosts.length,
        duration_s: Math.round(upgrade.seconds * 10) / 10,
        failed_reads: report.reads.failed,
        failed_writes: report.writes.failed + missing.length,
        failed_lb_requests: report.lb.failed,
        leader_changes: report.leader.changes,
        read_p99_ms_during: during,
        read_p99_ms_before: before,
        p99_ratio: before > 0 ? Math.round((during / before) * 100) / 100 : null,
        reads: report.reads.ok + report.reads.failed,
        reads_rerouted: report.reads.rerouted,
        read_connections_reset: Object.values(report.readsByReplica).reduce(
          (n, r) => n + r.reset,
          0,
        ),
        writes_acked: report.writes.acked,
        write_retries: report.writes.retries,
        lb_requests: report.lb.ok + report.lb.failed,
        tasks_relaunched: relaunched.length,
        processes_on_new_release: onN1,
      }),
    );
  } finally {
    const swept = await cluster.destroy();
    if (swept) say(`the sweep stopped ${swept} leftover processes`);
    if (values.keep) say(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`[bench upgrade] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
