/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
/** Load-balanced services on real agents behind real nginx lb-agents, for the deploy tests. */
import { chmodSync } from 'node:fs';
import { expect, onTestFinished } from 'vitest';
import type { ZooKeeperCluster } from '../../src/dev/index.js';
import { startCluster, waitFor, type TestCluster } from './cluster.js';
import { LbTestCluster } from './lb-cluster.js';
import { activeTasks, anyUrl, callJson } from './tasks-cluster.js';
import { createLbRequest, deployResultOf, demoDeployBody, fastChecks } from './lb-web-deploy.js';
import { startRealAgent } from './tasks-real-agents.js';

export { fastChecks };

/** Replicas, 2 agents, 2 lb-agents of group `edge`; everything stopped when the test ends. */
export async function startLbCluster(
  zk: ZooKeeperCluster,
): Promise<{ cluster: TestCluster; lb: LbTestCluster }> {
  const cluster = await startCluster(zk, { replicas: 2, sessionTimeoutMs: 4_000 });
  // nginx workers run as nobody: they must reach the (empty) document root under this dir.
  chmodSync(cluster.dir, 0o755);
  const lb = new LbTestCluster(zk.connectString, cluster.dir, cluster.chroot);
  lb.replicas = cluster.replicas;
  onTestFinished(async () => {
    await Promise.all(lb.agents.map((a) => a.process.stop(3_000)));
    for (const a of lb.agents) a.killNginx();
  });
  await lb.startAgent('lb-a', 'edge');
  await lb.startAgent('lb-b', 'edge');
  await lb.waitAgentsJoined('edge', 2);
  await startRealAgent(cluster, 'agent-a');
  await startRealAgent(cluster, 'agent-b');
  return { cluster, lb };
}

/** Creates `web` (4 instances, load-balanced), deploys `deployId`, waits until nginx serves it. */
export async function createWebAt(
  cluster: TestCluster,
  lb: LbTestCluster,
  deployId: string,
): Promise<void> {
  const created = await createLbRequest(anyUrl(cluster), 'web', 4);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  await submitDeploy(cluster, { id: deployId });
  await waitDeployEnded(cluster, deployId);
  await waitServedBy(lb, deployId, 4);
}

/**
 * {@link startLbCluster}, then the load-balanced request `web` (4 instances) on deploy v1,
 * served by nginx on every lb-agent.
 */
export async function startWebOnV1(
  zk: ZooKeeperCluster,
): Promise<{ cluster: TestCluster; lb: LbTestCluster; url: string }> {
  const { cluster, lb } = await startLbCluster(zk);
  const url = anyUrl(cluster);
  await createWebAt(cluster, lb, 'v1');
  return { cluster, lb, url };
}

/** Submits a deploy of the demo service to `web` in group `edge`; `deploy` adds or overrides fields. */
export async function submitDeploy(
  cluster: TestCluster,
  deploy: Record<string, unknown>,
): Promise<void> {
  const body = demoDeployBody('web', { loadBalancerGroups: ['edge'], ...deploy });
  const d = await callJson(`${anyUrl(cluster)}/api/deploys`, 'POST', body);
  expect(d.status, JSON.stringify(d.body)).toBe(200);
}

/**
 * Waits until no deploy is pending and `deployId` is active; says what it last saw. A deploy
 * that ended otherwise (FAILED, CANCELED…) fails the wait at once with its result; one whose
 * result is SUCCEEDED is waited for (the replica's view of the request may lag its history).
 */
export async function waitDeployEnded(cluster: TestCluster, deployId: string): Promise<any> {
  const outcome = await waitFor(
    `deploy ended with ${deployId} active`,
    async () => {
      const url = anyUrl(cluster);
      const r = await callJson(`${url}/api/requests/request/web`, 'GET');
      const body = r.body as any;
      if (!body.pendingDeploy && body.activeDeploy?.id === deployId) return { body };
      if (!body.pendingDeploy) {
        // SUCCEEDED only means the replica's view has not caught up with active yet.
        const result = await deployResultOf(url, 'web', deployId);
        if (result && result.deployState !== 'SUCCEEDED') return { result };
      }
      throw new Error(
        `active ${body.activeDeploy?.id}, pending ${body.pendingDeploy?.id}, ` +
          `progress ${JSON.stringify(body.pendingDeployState?.deployProgress ?? null)}`,
      );
    },
    { timeoutMs: 240_000, intervalMs: 250 },
  );
  if ('result' in outcome) {
    throw new Error(
      `deploy ${deployId} ended without becoming active: ${JSON.stringify(outcome.result)}`,
    );
  }
  return outcome.body;
}

/** Tasks answering through both nginx agents, until `n` distinct ones of `deployId` answered. */
export async function waitServedBy(lb: LbTestCluster, deployId: string, n: number): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    `${n} tasks of ${deployId} behind every nginx`,
    async () => {
      for (const a of lb.agents) {
        const r = await a.get('/web/probe');
        const taskId = r.status === 200 ? (JSON.parse(r.body) as any).taskId : undefined;
        if (typeof taskId === 'string' && taskId.startsWith(`web-${deployId}-`)) seen.add(taskId);
      }
      if (seen.size >= n) return true;
      throw new Error(`seen ${[...seen].join(', ') || 'none'}`);
    },
    { timeoutMs: 120_000, intervalMs: 50 },
  );
}

/** Samples the pending deploy's step and the request's active task count until stopped. */
export function watchSteps(cluster: TestCluster): {
  stop(): Promise<{ step: number; tasks: number }[]>;
} {
  const seen: { step: number; tasks: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      // A sample that fails (a replica restarting, the test over) is only a missed sample.
      try {
        const r = await callJson(`${anyUrl(cluster)}/api/requests/request/web`, 'GET');
        const step = (r.body as any).pendingDeployState?.step;
        const tasks = (await activeTasks(cluster)).filter((t) => t.requestId === 'web').length;
        if (typeof step === 'number') seen.push({ step, tasks });
      } catch {
        // next sample
      }
      await new Promise((done) => setTimeout(done, 100));
    }
  })();
  onTestFinished(() => {
    running = false;
  });
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}
