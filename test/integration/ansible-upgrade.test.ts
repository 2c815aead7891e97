import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { waitFor } from '../../src/dev/wait-for.js';
import { AnsibleCluster, packageRelease, type PlaybookRun } from '../harness/ansible-cluster.js';
import { jsonOf, probe } from '../harness/http-probe.js';
import { DEMO, type DemoTask, demoTasks, deployDemo, routeDemo } from '../harness/upgrade-demo.js';
import { type LoadReport, UpgradeLoad, missingWrites } from '../harness/upgrade-load.js';

// deploy/ansible end to end, with real ansible-core against real processes on this machine
// (docs/deploy.md): site.yml installs release N, rolling-upgrade.yml takes the cluster to N+1
// while a load client runs, rollback.yml takes it back to N under the same load. Every host is
// one inventory entry with its own directory and ports; services run under start-stop-daemon.
const N = '0.1.0-ci.1';
const N1 = '0.1.0-ci.2';

const dir = mkdtempSync(path.join(os.tmpdir(), 'thales-ansible-'));
// nginx's workers run as nobody: they must be able to traverse to the lb-agent's files.
chmodSync(dir, 0o755);
let cluster: AnsibleCluster | undefined;
let failed = false;

afterAll(async () => {
  const swept = await cluster?.destroy();
  if (swept) process.stderr.write(`[ansible test] the sweep stopped ${swept} leftover processes\n`);
  if (failed) process.stderr.write(`[ansible test] failed; logs and playbook output in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}, 300_000);

/** Fails with the playbook's last lines (and where its whole log is) unless it passed. */
function expectPassed(run: PlaybookRun, what: string): void {
  if (run.code !== 0) {
    throw new Error(
      `${what} exited ${run.code} after ${run.seconds}s (log ${run.logFile}):\n${run.tail}`,
    );
  }
}

/** Replicas, agents and the lb-agent as they say which release they run. */
async function reportedVersions(c: AnsibleCluster): Promise<string[]> {
  const out: string[] = [];
  for (const url of c.schedulerUrls) {
    const s = jsonOf<{ replicaId: string; version: string }>(await probe(`${url}/api/state`));
    out.push(`replica ${s?.replicaId ?? url} ${s?.version ?? 'no answer'}`);
  }
  const agents = jsonOf<{ id: string; version?: string }[]>(
    await probe(`${c.schedulerUrls[0]}/api/agents`),
  );
  for (const a of agents ?? []) out.push(`agent ${a.id} ${a.version ?? 'no version'}`);
  const lb = jsonOf<{ agentId: string; version: string }>(await probe(c.lb.statusUrl));
  out.push(`lb-agent ${lb?.agentId ?? '?'} ${lb?.version ?? 'no answer'}`);
  return out;
}

/**
 * Runs `playbook` towards `version` under load, then checks the figures the issue names: no
 * failed read, write or nginx request, every acknowledged write on every replica, one leader
 * change, every process on `version`, and the demo's tasks exactly as they were.
 */
async function rollUnderLoad(
  c: AnsibleCluster,
  playbook: string,
  version: string,
  extraVars: Record<string, string>,
  tasksBefore: DemoTask[],
  tag: string,
): Promise<LoadReport> {
  const load = new UpgradeLoad({
    replicas: c.schedulerUrls,
    lbUrl: `${c.lb.nginxUrl}${DEMO.basePath}`,
    demoRequestId: DEMO.requestId,
    demoTaskIds: tasksBefore.map((t) => t.taskId),
    writePrefix: `load-${tag}`,
  });
  load.start();
  try {
    // A baseline first: enough reads, nginx requests and writes to compare against.
    await waitFor(
      'a baseline of load before the playbook',
      () => {
        const p = load.progress;
        return p.reads >= 150 && p.lb >= 50 && p.writes >= 6;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    load.phase('during');
    const run = await c.runPlaybook(playbook, extraVars, (line) =>
      process.stdout.write(`${line}\n`),
    );
    expectPassed(run, playbook);
    load.phase('after');
    const atEnd = load.progress;
    await waitFor(
      'more load after the playbook',
      () => {
        const p = load.progress;
        return p.reads >= atEnd.reads + 60 && p.lb >= atEnd.lb + 20 && p.writes >= atEnd.writes + 3;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
  } finally {
    await load.stop();
  }
  const report = load.report();
  process.stdout.write(`[ansible test] ${playbook}: ${JSON.stringify(report)}\n`);
  expect(report.reads.failures).toEqual([]);
  expect(report.writes.failures).toEqual([]);
  expect(report.lb.failures).toEqual([]);
  expect(report.reads.ok).toBeGreaterThan(0);
  expect(report.lb.ok).toBeGreaterThan(0);
  // Every replica answered reads, and each one was refused only while it restarted.
  for (const r of Object.values(report.readsByReplica)) expect(r.ok).toBeGreaterThan(0);
  expect(await missingWrites(c.schedulerUrls, load.acked)).toEqual([]);
  // The planned step-down is the only leader change.
  expect(report.leader.changes, report.leader.sequence.join(' ')).toBe(1);
  const everyVersion = await reportedVersions(c);
  expect(everyVersion.filter((v) => !v.endsWith(` ${version}`))).toEqual([]);
  expect(everyVersion).toHaveLength(c.schedulerUrls.length + c.agentUrls.length + 1);
  const releases = c.processReleases();
  expect(releases.filter((p) => p.release !== `thales-${version}`)).toEqual([]);
  // 3 replicas, 2 agents with their cleaners, 1 lb-agent: all supervised, all running.
  expect(releases).toHaveLength(c.schedulerUrls.length + 2 * c.agentUrls.length + 1);
  // Not one task relaunched: the same ids, answered by the same processes.
  expect(await demoTasks(c.schedulerUrls[0] as string)).toEqual(tasksBefore);
  return report;
}

describe('deploy/ansible', () => {
  it(
    'installs a cluster with site.yml, upgrades it rolling with zero downtime, rolls it back',
    async () => {
      onTestFailed(() => void (failed = true));
      const c = (cluster = await AnsibleCluster.create(dir, {
        zookeeper: 3,
        schedulers: 3,
        agents: 2,
        lbAgents: 1,
      }));
      const releases = path.join(dir, 'releases');
      await Promise.all([packageRelease(N, releases), packageRelease(N1, releases)]);

      expectPassed(await c.runPlaybook('site.yml', { thales_version: N }), 'site.yml');
      const api = c.schedulerUrls[0] as string;
      const tasks = await deployDemo(api, 3);
      await routeDemo(api, c.lbGroup, tasks);
      await waitFor('nginx to serve the demo', async () => {
        const r = await probe(`${c.lb.nginxUrl}${DEMO.basePath}`);
        return r.kind === 'answered' && r.status === 200;
      });
      // Both agents run demo tasks: each agent's restart is tested with tasks on it.
      expect(new Set(tasks.map((t) => t.agentId)).size).toBe(2);

      // ZooKeeper restarts member by member too, though its config did not change.
      const upgrade = { thales_version: N1, zookeeper_restart: 'always' };
      await rollUnderLoad(c, 'rolling-upgrade.yml', N1, upgrade, tasks, 'up');
      // rollback.yml finds N from each host's `previous` link: no version is given.
      await rollUnderLoad(c, 'rollback.yml', N, {}, tasks, 'back');
    },
    40 * 60_000, // minutes of ansible: generous for a loaded machine, see docs/deploy.md
  );
});
