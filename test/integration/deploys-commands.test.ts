/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  makeTempDir,
  runThales,
  startCluster,
  useZooKeeper,
  waitFor,
  type TestCluster,
} from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import { anyUrl, callJson, createService, shortAgentGraces } from '../harness/tasks-cluster.js';

// Real ZooKeeper and replicas; simulated agents (they report a passing health check).
const zk = useZooKeeper();
shortAgentGraces();

async function deploy(cluster: TestCluster, id: string, extra: Record<string, unknown> = {}) {
  const d = await callJson(`${anyUrl(cluster)}/api/deploys`, 'POST', {
    deploy: {
      requestId: 'web',
      id,
      command: 'sleep',
      arguments: ['1000'],
      resources: { cpus: 0.1, memoryMb: 16, numPorts: 1 },
      deployInstanceCountPerStep: 1,
      autoAdvanceDeploySteps: false,
      ...extra,
    },
  });
  expect(d.status, JSON.stringify(d.body)).toBe(200);
}

/** The request answer once `want` holds of it; says what it last saw. */
async function waitRequest(cluster: TestCluster, what: string, want: (r: any) => boolean) {
  return waitFor(
    what,
    async () => {
      const r = (await callJson(`${anyUrl(cluster)}/api/requests/request/web`, 'GET')).body;
      if (want(r)) return r;
      throw new Error(JSON.stringify(r.pendingDeployState ?? r.activeDeploy?.id ?? null));
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

describe('deploy commands: advance, cancel, history (real ZooKeeper, replicas)', () => {
  it('a manual step waits for POST /api/deploys/update; DELETE cancels (CANCELED, rolled back); history lists both', async () => {
    const cluster = await startCluster(zk(), { replicas: 2 });
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'web', 2, 'v1');
    await waitRequest(cluster, 'v1 active', (r) => r.activeDeploy?.id === 'v1' && !r.pendingDeploy);
    const url = anyUrl(cluster);

    await deploy(cluster, 'v2');
    // Step 1 of 2 completes, then waits for an explicit advance.
    const waiting = await waitRequest(
      cluster,
      'v2 step 1 complete',
      (r) => r.pendingDeployState?.deployProgress?.stepComplete === true,
    );
    expect(waiting.pendingDeployState).toMatchObject({ step: 1, currentDeployState: 'WAITING' });
    expect(waiting.pendingDeployState.deployProgress).toMatchObject({
      targetActiveInstances: 1,
      currentActiveInstances: 1,
    });
    // Bad input is refused by name and changes nothing.
    const bad = await callJson(`${url}/api/deploys/update`, 'POST', {
      requestId: 'web',
      deployId: 'v2',
      targetActiveInstances: 0,
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('targetActiveInstances');
    const wrong = await callJson(`${url}/api/deploys/update`, 'POST', {
      requestId: 'web',
      deployId: 'v9',
    });
    expect(wrong.status).toBe(404);
    const advanced = await callJson(`${url}/api/deploys/update`, 'POST', {
      requestId: 'web',
      deployId: 'v2',
    });
    expect(advanced.status).toBe(202);
    await waitRequest(cluster, 'v2 active', (r) => r.activeDeploy?.id === 'v2' && !r.pendingDeploy);

    await deploy(cluster, 'v3');
    await waitRequest(
      cluster,
      'v3 step 1 complete',
      (r) => r.pendingDeployState?.deployProgress?.stepComplete === true,
    );
    const cancel = await callJson(`${url}/api/deploys/deploy/v3/request/web`, 'DELETE', {
      message: 'changed my mind',
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(202);
    await waitRequest(
      cluster,
      'v3 canceled',
      (r) => r.activeDeploy?.id === 'v2' && !r.pendingDeploy,
    );

    const history = await callJson(`${url}/api/history/request/web/deploys`, 'GET');
    expect(history.status).toBe(200);
    const states = Object.fromEntries(
      (history.body as any[]).map((d) => [d.id, d.deployResult.deployState]),
    );
    expect(states).toMatchObject({ v1: 'SUCCEEDED', v2: 'SUCCEEDED', v3: 'CANCELED' });
    const v3 = await callJson(`${url}/api/history/request/web/deploy/v3`, 'GET');
    expect(v3.body.deployResult.message).toContain('changed my mind');
    const none = await callJson(`${url}/api/history/request/web/deploy/nope`, 'GET');
    expect(none.status).toBe(404);
    const tasks = (await callJson(`${url}/api/tasks/active`, 'GET')).body as any[];
    expect(tasks.filter((t) => t.requestId === 'web').map((t) => t.deployId)).toEqual(['v2', 'v2']);
  });

  it("thales deploy --file (Singularity's JSON) --wait: progress, the result, and the exit code", async () => {
    const cluster = await startCluster(zk(), { replicas: 2 });
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'web', 2, 'v1');
    await waitRequest(cluster, 'v1 active', (r) => r.activeDeploy?.id === 'v1' && !r.pendingDeploy);
    const url = anyUrl(cluster);
    const dir = makeTempDir();
    const file = (id: string, extra: Record<string, unknown>) => {
      const f = path.join(dir, `${id}.json`);
      const deploy = {
        requestId: 'web',
        id,
        command: 'sleep',
        arguments: ['1000'],
        resources: { cpus: 0.1, memoryMb: 16, numPorts: 1 },
        deployInstanceCountPerStep: 1,
        ...extra,
      };
      writeFileSync(f, JSON.stringify({ deploy, message: `deploy ${id}` }));
      return f;
    };
    // A wait between the steps: with simulated agents (healthy at once) a deploy could end
    // before the first poll, and the progress line would have nothing to show.
    const ok = await runThales(
      ['deploy', '--file', file('v2', { deployStepWaitTimeMs: 2_000 }), '--wait', '--api', url],
      {
        timeoutMs: 90_000,
      },
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/step [12] of 2, healthy \d of 2, in load balancer \d of 2/);
    expect(JSON.parse(ok.stdout).deployResult.deployState).toBe('SUCCEEDED');

    // A deploy canceled while the CLI waits: CANCELED, and a non-zero exit.
    const waiting = runThales(
      ['deploy', '--file', file('v3', { autoAdvanceDeploySteps: false }), '--wait', '--api', url],
      { timeoutMs: 90_000 },
    );
    await waitRequest(cluster, 'v3 step 1 complete', (r) => {
      const s = r.pendingDeployState;
      return s?.deployMarker?.deployId === 'v3' && s.deployProgress.stepComplete === true;
    });
    const cancel = await callJson(`${url}/api/deploys/deploy/v3/request/web`, 'DELETE');
    expect(cancel.status).toBe(202);
    const canceled = await waiting;
    expect(canceled.code, canceled.stderr).toBe(1);
    expect(JSON.parse(canceled.stdout).deployResult.deployState).toBe('CANCELED');
  });

  it('bounce: a rolling restart of the active deploy through the steps; bad bounces refused', async () => {
    const cluster = await startCluster(zk(), { replicas: 2 });
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'web', 2, 'v1');
    await waitRequest(cluster, 'v1 active', (r) => r.activeDeploy?.id === 'v1' && !r.pendingDeploy);
    const url = anyUrl(cluster);
    const tasks = async () =>
      ((await callJson(`${url}/api/tasks/active`, 'GET')).body as any[]).filter(
        (t) => t.requestId === 'web',
      );
    const before = (await tasks()).map((t) => t.id);
    const bad = await callJson(`${url}/api/requests/request/web/bounce`, 'POST', { nope: 1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('nope');
    const missing = await callJson(`${url}/api/requests/request/ghost/bounce`, 'POST', {});
    expect(missing.status).toBe(404);
    const bounced = await callJson(`${url}/api/requests/request/web/bounce`, 'POST', {
      message: 'rolling restart',
    });
    expect(bounced.status, JSON.stringify(bounced.body)).toBe(202);
    const zkc = await cluster.coordinator();
    const done = await waitFor(
      'the bounce ended',
      async () => {
        const node = await zkc.getOrNull('/deploys/web/progress');
        const p = node ? JSON.parse(node.data.toString()) : null;
        if (p?.kind === 'BOUNCE' && p.phase === 'DONE') return p;
        throw new Error(JSON.stringify(p && { phase: p.phase, step: p.step }));
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(done.deployResult.deployState).toBe('SUCCEEDED');
    // A bounce is DONE once every old task's kill is sent (docs/deploys.md); the old tasks'
    // ends follow as their agents report them.
    const after = await waitFor(
      "only the bounce's 2 new tasks active, running v1",
      async () => {
        const now = await tasks();
        const fresh = !now.some((t) => before.includes(t.id));
        const running = now.every((t) => t.deployId === 'v1' && t.state === 'TASK_RUNNING');
        if (now.length === 2 && fresh && running) return now;
        throw new Error(now.map((t) => `${t.id} ${t.state}`).join(', '));
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(after.map((t) => t.instanceNo).sort()).toEqual([1, 2]);
  });
});
