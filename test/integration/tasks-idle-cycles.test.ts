/**
 * Cost per change, not per cluster (issue 12), counted through the coordination layer's read
 * counter (`thales_zk_reads_total`) on real replicas and a real ZooKeeper: a leader whose
 * cluster does not change sends ZooKeeper no read at all while its cycles keep ticking, and a
 * change to one request re-plans that request only and reads a handful of znodes, however
 * many requests the cluster holds. Reads on a follower answer from memory.
 */
import { describe, expect, it } from 'vitest';
import { startCluster, useZooKeeper, waitFor } from '../harness/index.js';
import { startSimAgents } from '../harness/sim-agent.js';
import {
  callJson,
  createService,
  shortAgentGraces,
  waitRunning,
} from '../harness/tasks-cluster.js';

const zk = useZooKeeper();
shortAgentGraces();

const REQUESTS = 30;

/** The counters this test reads from a replica's /metrics. */
interface Counters {
  reads: number;
  fullCycles: number;
  changedCycles: number;
  planned: number;
}

async function counters(url: string): Promise<Counters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    reads: value(/^thales_zk_reads_total(?:\{[^}]*\})? (\d+)/m),
    fullCycles: value(/^thales_scheduler_cycles_total\{[^}]*scope="all"[^}]*\} (\d+)/m),
    changedCycles: value(/^thales_scheduler_cycles_total\{[^}]*scope="changed"[^}]*\} (\d+)/m),
    planned: value(/^thales_scheduler_planned_requests_total(?:\{[^}]*\})? (\d+)/m),
  };
}

function delta(after: Counters, before: Counters): Counters {
  return {
    reads: after.reads - before.reads,
    fullCycles: after.fullCycles - before.fullCycles,
    changedCycles: after.changedCycles - before.changedCycles,
    planned: after.planned - before.planned,
  };
}

/** The counters' change over one window of at least three cycles (the tick runs one a second). */
async function cycleWindow(leaderUrl: string): Promise<Counters> {
  const before = await counters(leaderUrl);
  const after = await waitFor('three more cycles', async () => {
    const now = await counters(leaderUrl);
    const d = delta(now, before);
    return d.fullCycles + d.changedCycles >= 3 ? now : undefined;
  });
  return delta(after, before);
}

/**
 * Waits until the leader has settled: settling after launches (the last status updates) may
 * still read, so windows are tried until one sent ZooKeeper no read. Says what the last window
 * saw if none is idle. Only a wait: the test then measures a window of its own, so a driver
 * that re-reads every few cycles cannot hide between two idle windows.
 */
async function settled(leaderUrl: string, what: string): Promise<void> {
  let last: Counters | undefined;
  await waitFor(
    what,
    async () => {
      last = await cycleWindow(leaderUrl);
      return last.reads === 0 ? true : undefined;
    },
    { timeoutMs: 60_000 },
  ).catch((err: unknown) => {
    throw new Error(`last idle window: ${JSON.stringify(last)}`, { cause: err });
  });
}

describe('incremental scheduling cycles (real ZooKeeper and replicas)', () => {
  it('an idle cycle reads nothing; a change to one request re-plans only it', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    const ids = Array.from({ length: REQUESTS }, (_, i) => `svc-${i}`);
    for (const id of ids) await createService(cluster, id, 1);
    for (const id of ids) await waitRunning(cluster, id, 1);
    const { replica: leader } = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r.id !== leader.id && r.process.running)!;

    // Idle: at least three cycles (the tick runs one a second) and not one read.
    await settled(leader.url, 'three idle cycles without a ZooKeeper read');
    const idle = await cycleWindow(leader.url);
    expect(idle.reads).toBe(0);
    // Cycles that were not full plans planned nothing.
    expect(idle.planned).toBe(idle.fullCycles * REQUESTS);

    // One change, written through a follower (so the leader's only reads are its watches').
    const before = await counters(leader.url);
    const scaled = await callJson(`${follower.url}/api/requests/request/svc-7/scale`, 'PUT', {
      instances: 2,
    });
    expect(scaled.status).toBe(200);
    await waitRunning(cluster, 'svc-7', 2);
    const change = delta(await counters(leader.url), before);
    // Partial cycles planned svc-7 alone (one request each at most).
    expect(change.planned - change.fullCycles * REQUESTS).toBeLessThanOrEqual(change.changedCycles);
    expect(change.planned - change.fullCycles * REQUESTS).toBeGreaterThanOrEqual(1);
    // The request's znode, the new task's znode and its status updates: a handful of reads,
    // where re-reading the desired state would take at least one per request and deploy.
    expect(change.reads).toBeGreaterThan(0);
    expect(change.reads).toBeLessThan(REQUESTS);

    // Reads on a follower answer from memory: no ZooKeeper read, the view's age in a header.
    const followerBefore = await counters(follower.url);
    const list = await fetch(`${follower.url}/api/requests`);
    expect(list.status).toBe(200);
    expect(list.headers.get('x-thales-view-age-ms')).toBe('0');
    const parents = (await list.json()) as { request: { id: string; instances: number } }[];
    expect(parents.map((p) => p.request.id).sort()).toEqual([...ids].sort());
    expect(parents.find((p) => p.request.id === 'svc-7')?.request.instances).toBe(2);
    const tasks = await fetch(`${follower.url}/api/tasks/active`);
    expect(((await tasks.json()) as unknown[]).length).toBe(REQUESTS + 1);
    expect((await counters(follower.url)).reads).toBe(followerBefore.reads);
    expect(cluster.invariantViolations()).toEqual([]);
  });
});

describe('a deploy waiting for a manual advance (real ZooKeeper and replicas)', () => {
  it('its idle cycles read nothing: the deploy driver reads its intents from watched caches', async () => {
    const cluster = await startCluster(zk());
    startSimAgents(cluster, ['sim-a', 'sim-b']);
    await createService(cluster, 'steps', 2);
    await waitRunning(cluster, 'steps', 2);
    const { replica: leader } = await cluster.waitForLeader();
    const d = await callJson(`${leader.url}/api/deploys`, 'POST', {
      deploy: {
        requestId: 'steps',
        id: 'd2',
        command: 'sleep',
        arguments: ['1000'],
        resources: { cpus: 0.1, memoryMb: 16, numPorts: 1 },
        deployInstanceCountPerStep: 1,
        autoAdvanceDeploySteps: false,
        skipHealthchecksOnDeploy: true,
      },
    });
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    await waitFor('step 1 complete, waiting for an advance', async () => {
      const r = await callJson(`${leader.url}/api/requests/request/steps`, 'GET');
      const state = (
        r.body as { pendingDeployState?: { deployProgress?: { stepComplete?: boolean } } }
      ).pendingDeployState;
      if (state?.deployProgress?.stepComplete === true) return true;
      throw new Error(JSON.stringify(state ?? null));
    });

    await settled(leader.url, 'three idle cycles without a ZooKeeper read while the deploy waits');
    const idle = await cycleWindow(leader.url);
    expect(idle.reads).toBe(0);
    expect(idle.fullCycles + idle.changedCycles).toBeGreaterThanOrEqual(3);

    // The advance still arrives (from the cache): the deploy goes on to its end.
    const adv = await callJson(`${leader.url}/api/deploys/update`, 'POST', {
      requestId: 'steps',
      deployId: 'd2',
    });
    expect(adv.status, JSON.stringify(adv.body)).toBeLessThan(300);
    await waitFor('d2 active', async () => {
      const r = await callJson(`${leader.url}/api/requests/request/steps`, 'GET');
      const body = r.body as { activeDeploy?: { id: string }; pendingDeploy?: unknown };
      if (body.activeDeploy?.id === 'd2' && !body.pendingDeploy) return true;
      throw new Error(JSON.stringify(body));
    });
  });
});
