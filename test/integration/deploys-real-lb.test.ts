/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import { chmodSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startCluster, useZooKeeper, waitFor, type TestCluster } from '../harness/index.js';
import { LbTestCluster } from '../harness/lb-cluster.js';
import { startTraffic } from '../harness/lb-traffic.js';
import { activeTasks, anyUrl, callJson, shortAgentGraces } from '../harness/tasks-cluster.js';
import { demoServicePath, startRealAgent } from '../harness/tasks-real-agents.js';

// Real ZooKeeper, real replicas, two real agents, two real lb-agents each with its own nginx.
const zk = useZooKeeper();
shortAgentGraces();

const fastChecks = {
  uri: '/health',
  startupIntervalSeconds: 1,
  startupTimeoutSeconds: 30,
  intervalSeconds: 1,
  responseTimeoutSeconds: 2,
};

/** Replicas, 2 agents, 2 lb-agents of group `edge`; everything stopped when the test ends. */
async function startLbCluster(): Promise<{ cluster: TestCluster; lb: LbTestCluster }> {
  const cluster = await startCluster(zk(), { replicas: 2, sessionTimeoutMs: 4_000 });
  // nginx workers run as nobody: they must reach the (empty) document root under this dir.
  chmodSync(cluster.dir, 0o755);
  const lb = new LbTestCluster(zk().connectString, cluster.dir, cluster.chroot);
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

async function submitDeploy(cluster: TestCluster, deploy: Record<string, unknown>): Promise<void> {
  const d = await callJson(`${anyUrl(cluster)}/api/deploys`, 'POST', {
    deploy: {
      requestId: 'web',
      command: process.execPath,
      arguments: [demoServicePath()],
      resources: { cpus: 0.1, memoryMb: 32, numPorts: 1 },
      healthcheck: fastChecks,
      serviceBasePath: '/web',
      loadBalancerGroups: ['edge'],
      ...deploy,
    },
  });
  expect(d.status, JSON.stringify(d.body)).toBe(200);
}

/** Waits until no deploy is pending and `deployId` is active; says what it last saw. */
async function waitDeployEnded(cluster: TestCluster, deployId: string): Promise<any> {
  return waitFor(
    `deploy ended with ${deployId} active`,
    async () => {
      const r = await callJson(`${anyUrl(cluster)}/api/requests/request/web`, 'GET');
      const body = r.body as any;
      if (!body.pendingDeploy && body.activeDeploy?.id === deployId) return body;
      throw new Error(
        `active ${body.activeDeploy?.id}, pending ${body.pendingDeploy?.id}, ` +
          `progress ${JSON.stringify(body.pendingDeployState?.deployProgress ?? null)}`,
      );
    },
    { timeoutMs: 240_000, intervalMs: 250 },
  );
}

/** Tasks answering through both nginx agents, until `n` distinct ones of `deployId` answered. */
async function waitServedBy(lb: LbTestCluster, deployId: string, n: number): Promise<void> {
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
function watchSteps(cluster: TestCluster): { stop(): Promise<{ step: number; tasks: number }[]> } {
  const seen: { step: number; tasks: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await callJson(`${anyUrl(cluster)}/api/requests/request/web`, 'GET');
      const step = (r.body as any).pendingDeployState?.step;
      const tasks = (await activeTasks(cluster)).filter((t) => t.requestId === 'web').length;
      if (typeof step === 'number') seen.push({ step, tasks });
      await new Promise((done) => setTimeout(done, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

describe('stepped deploys behind real nginx lb-agents (real agents, ZooKeeper)', () => {
  it('v1 → v2 one instance per step: 0 failed requests; v3 never healthy: FAILED, rolled back, v2 at 4, 0 failed', async () => {
    const { cluster, lb } = await startLbCluster();
    const url = anyUrl(cluster);
    const created = await callJson(`${url}/api/requests`, 'POST', {
      id: 'web',
      requestType: 'SERVICE',
      instances: 4,
      loadBalanced: true,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    await submitDeploy(cluster, { id: 'v1' });
    await waitDeployEnded(cluster, 'v1');
    await waitServedBy(lb, 'v1', 4);

    const traffic = startTraffic(
      lb.agents.map((a) => a.nginxPort),
      '/web/hello',
    );
    await submitDeploy(cluster, { id: 'v2', deployInstanceCountPerStep: 1 });
    const steps = watchSteps(cluster);
    const v2 = await waitDeployEnded(cluster, 'v2');
    // One instance per step: four steps. At most the count, the step's new task, and the
    // previous step's old task still ending (out of nginx, its kill sent) are active.
    const seen = await steps.stop();
    expect(Math.max(...seen.map((s) => s.step))).toBe(4);
    expect(Math.max(...seen.map((s) => s.tasks))).toBeLessThanOrEqual(6);
    expect(v2.activeDeploy.deployResult.deployState).toBe('SUCCEEDED');
    await waitServedBy(lb, 'v2', 4);
    const afterV2 = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
    expect(afterV2.map((t) => t.deployId)).toEqual(['v2', 'v2', 'v2', 'v2']);

    // v3 never listens: its startup checks fail, the deploy fails and rolls back to v2.
    await submitDeploy(cluster, {
      id: 'v3',
      deployInstanceCountPerStep: 1,
      env: { DEMO_START_DELAY_MS: '600000' },
      healthcheck: { ...fastChecks, startupTimeoutSeconds: 3 },
    });
    await waitDeployEnded(cluster, 'v2');
    const zkc = await cluster.coordinator();
    const v3 = JSON.parse((await zkc.get('/deploys/web/history/v3')).data.toString());
    expect(v3.deployResult.deployState).toBe('FAILED');
    expect(v3.deployResult.deployFailures[0].reason).toBe('TASK_FAILED_HEALTH_CHECKS');
    await waitFor(
      'v2 alone at 4 running',
      async () => {
        const web = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
        const ok = web.length === 4 && web.every((t) => t.deployId === 'v2');
        if (ok && web.every((t) => t.state === 'TASK_RUNNING')) return true;
        throw new Error(web.map((t) => `${t.deployId}/${t.instanceNo} ${t.state}`).join(', '));
      },
      { timeoutMs: 60_000 },
    );

    const answers = await traffic.stop();
    expect(traffic.failures()).toEqual([]);
    expect(answers.length).toBeGreaterThan(100);
    const deploysAnswering = new Set(answers.map((a) => a.taskId?.split('-')[1]));
    expect(deploysAnswering).toEqual(new Set(['v1', 'v2']));
  });
});
