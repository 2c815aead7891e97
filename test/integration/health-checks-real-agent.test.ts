/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor, type TestCluster } from '../harness/index.js';
import { anyUrl, callJson, shortAgentGraces, waitRunning } from '../harness/tasks-cluster.js';
import { demoServicePath, restartRealAgent, startRealAgent } from '../harness/tasks-real-agents.js';

const zk = useZooKeeper();
// An agent restart here must not outlast the lost-agent grace (its tasks would be replaced).
shortAgentGraces({ THALES_AGENT_LOST_MS: '60000' });

/** A SERVICE running the demo service with `fields` added to its deploy. */
async function deployDemo(
  cluster: TestCluster,
  id: string,
  fields: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<void> {
  const url = anyUrl(cluster);
  const r = await callJson(`${url}/api/requests`, 'POST', {
    id,
    requestType: 'SERVICE',
    instances: 1,
  });
  expect(r.status).toBe(200);
  const d = await callJson(`${url}/api/deploys`, 'POST', {
    deploy: {
      requestId: id,
      id: 'v1',
      command: process.execPath,
      arguments: [demoServicePath()],
      env,
      resources: { cpus: 0.1, memoryMb: 32, numPorts: 1 },
      ...fields,
    },
  });
  expect(d.status).toBe(200);
}

/** The task JSON, read through the API of any replica. */
async function taskJson(cluster: TestCluster, taskId: string): Promise<any> {
  const res = await callJson(`${anyUrl(cluster)}/api/tasks/task/${taskId}`, 'GET');
  expect(res.status).toBe(200);
  return res.body;
}

/** Waits until the task's newest health-check result matches `want`; says what it last saw. */
async function waitForResult(
  cluster: TestCluster,
  taskId: string,
  what: string,
  want: (r: any) => boolean,
  timeoutMs = 60_000,
): Promise<any> {
  return waitFor(
    `${taskId}: ${what}`,
    async () => {
      const t = await taskJson(cluster, taskId);
      const newest = t.healthcheckResults?.[0];
      if (newest && want(newest)) return t;
      // Thrown, so a timeout says what the task last showed.
      throw new Error(`state ${t.state}, newest result ${JSON.stringify(newest ?? null)}`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

async function post(port: number, path: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    signal: AbortSignal.timeout(5_000),
  });
  expect(res.status).toBe(200);
}

const fastChecks = {
  uri: '/health',
  startupIntervalSeconds: 1,
  startupTimeoutSeconds: 60,
  intervalSeconds: 1,
  responseTimeoutSeconds: 2,
  maxRetries: 1,
};

describe('health checks on a real agent, results in the task JSON (real ZooKeeper, replicas)', () => {
  it('HTTP: startup passes after a slow start; healthy → unhealthy → healthy, each recorded', async () => {
    const cluster = await startCluster(zk());
    await startRealAgent(cluster, 'agent-a');
    await deployDemo(cluster, 'hc', { healthcheck: fastChecks }, { DEMO_START_DELAY_MS: '2500' });
    const [task] = await waitRunning(cluster, 'hc', 1);
    const port = task!.ports[0]!;

    const started = await waitForResult(
      cluster,
      task!.id,
      'startup passed',
      (r) => r.health === 'HEALTHY',
    );
    const first = started.healthcheckResults[0];
    expect(first).toMatchObject({ statusCode: 200, startup: true, health: 'HEALTHY' });
    // The refused checks of the slow start were not reported one by one.
    expect(started.healthcheckResults).toHaveLength(1);
    expect(started.health.status).toBe('HEALTHY');

    await post(port, '/health/fail');
    // maxRetries 1: the first 503 is reported as a retry (still healthy), the second fails it.
    const failed = await waitForResult(
      cluster,
      task!.id,
      'unhealthy',
      (r) => r.health === 'UNHEALTHY',
    );
    const [unhealthy, retry] = failed.healthcheckResults;
    expect(unhealthy).toMatchObject({ statusCode: 503, startup: false, health: 'UNHEALTHY' });
    expect(unhealthy.responseBody).toContain('"healthy":false');
    expect(retry).toMatchObject({ statusCode: 503, health: 'HEALTHY' });
    expect(failed.health.status).toBe('UNHEALTHY');
    expect(failed.state).toBe('TASK_RUNNING');

    await post(port, '/health/ok');
    const healed = await waitForResult(
      cluster,
      task!.id,
      'healthy again',
      (r) => r.health === 'HEALTHY' && !r.startup,
    );
    expect(healed.healthcheckResults[0].statusCode).toBe(200);
    expect(healed.health.status).toBe('HEALTHY');
  });

  it('a startup that never passes ends UNHEALTHY after startupTimeoutSeconds', async () => {
    const cluster = await startCluster(zk());
    await startRealAgent(cluster, 'agent-a');
    // The service never starts listening: every startup check is refused.
    await deployDemo(
      cluster,
      'slow',
      { healthcheck: { ...fastChecks, startupTimeoutSeconds: 2 } },
      { DEMO_START_DELAY_MS: '600000' },
    );
    const [slow] = await waitRunning(cluster, 'slow', 1);
    const timedOut = await waitForResult(
      cluster,
      slow!.id,
      'startup timed out',
      (r) => r.health === 'UNHEALTHY',
    );
    const r = timedOut.healthcheckResults[0];
    expect(r.startup).toBe(true);
    expect(r.errorMessage).toContain('startupTimeoutSeconds');
    expect(r.errorMessage).toContain('connection refused');
    expect(timedOut.healthcheckResults).toHaveLength(1);
  });

  it('TCP (no uri): healthy while listening, unhealthy once the port closes; no check: healthy after N s', async () => {
    const cluster = await startCluster(zk());
    const agent = await startRealAgent(cluster, 'agent-a');
    await deployDemo(cluster, 'tcp', {
      healthcheck: { startupIntervalSeconds: 1, intervalSeconds: 1, responseTimeoutSeconds: 2 },
    });
    await deployDemo(cluster, 'plain', { considerHealthyAfterRunningForSeconds: 2 });
    const [tcp] = await waitRunning(cluster, 'tcp', 1);
    const [plain] = await waitRunning(cluster, 'plain', 1);

    const up = await waitForResult(cluster, tcp!.id, 'tcp healthy', (r) => r.health === 'HEALTHY');
    expect(up.healthcheckResults[0].statusCode).toBeUndefined();
    const ran = await waitForResult(
      cluster,
      plain!.id,
      'healthy after running',
      (r) => r.health === 'HEALTHY',
    );
    const runningAt = ran.updates.find((u: any) => u.state === 'TASK_RUNNING').at;
    expect(ran.healthcheckResults[0].timestamp - runningAt).toBeGreaterThanOrEqual(1_000);

    // An agent restart resumes the checks from the sandbox: no second startup, no false failure.
    await agent.proc.stop(2_000);
    restartRealAgent(agent);
    await post(tcp!.ports[0]!, '/health/close');
    const down = await waitForResult(
      cluster,
      tcp!.id,
      'tcp unhealthy',
      (r) => r.health === 'UNHEALTHY',
    );
    expect(down.healthcheckResults[0].errorMessage).toContain('connection refused');
    expect(down.healthcheckResults.filter((r: any) => r.startup)).toHaveLength(1);
    const plainAfter = await taskJson(cluster, plain!.id);
    expect(plainAfter.healthcheckResults).toHaveLength(1);
  });
});
