/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
/**
 * Waits and checks for the tests of the load balancer following a load-balanced request's
 * tasks (the request `web` of lb-deploys.ts) on real agents behind real nginx lb-agents.
 */
import { expect } from 'vitest';
import { LbRequestStore, type LbRequestRecord } from '../../src/lb/index.js';
import { type TestCluster, waitFor } from './cluster.js';
import { activeTasks, anyUrl, callJson } from './tasks-cluster.js';

/** `web`'s tasks if it runs exactly `n`, all running, none of them in `gone`; else throws what it saw. */
async function webRunning(cluster: TestCluster, n: number, gone: string[]) {
  const web = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
  const ok = web.length === n && web.every((t) => t.state === 'TASK_RUNNING');
  if (ok && !web.some((t) => gone.includes(t.id))) return web;
  throw new Error(web.map((t) => `${t.id} ${t.state}`).join(', '));
}

/** Waits until `web` runs exactly `n` tasks, none of them in `gone`; says what it last saw. */
export async function waitWebRunning(cluster: TestCluster, n: number, gone: string[] = []) {
  return waitFor(
    `web at ${n} running without ${gone.join(', ')}`,
    () => webRunning(cluster, n, gone),
    {
      timeoutMs: 90_000,
    },
  );
}

/**
 * Waits until web runs `n` tasks (none in `gone`) and its stored service upstreams are exactly
 * theirs. Each probe checks the tasks once, so the one 90 s bound covers both conditions.
 */
export async function waitAllInLb(cluster: TestCluster, n: number, gone: string[] = []) {
  return waitFor(
    `web's ${n} running tasks all in the load balancer`,
    async () => {
      const web = await webRunning(cluster, n, gone);
      const r = await callJson(`${anyUrl(cluster)}/api/lb/services/web`, 'GET');
      const stored = ((r.body as any).upstreams ?? []).map((u: any) => u.upstream).sort();
      const want = web.map((t) => `127.0.0.1:${t.ports[0]}`).sort();
      if (JSON.stringify(stored) === JSON.stringify(want)) return web;
      throw new Error(`stored ${stored.join(', ')}; tasks ${want.join(', ')}`);
    },
    { timeoutMs: 90_000 },
  );
}

/** Every load-balancer request stored in ZooKeeper (their records, with state and times). */
export async function storedLbRequests(cluster: TestCluster): Promise<LbRequestRecord[]> {
  const store = new LbRequestStore(await cluster.coordinator());
  const records = await Promise.all((await store.requestIds()).map((id) => store.getRequest(id)));
  return records.flatMap((r) => (r ? [r.value] : []));
}

/**
 * Invariant 5 for one ended task: a load-balancer request that removed its upstream
 * succeeded (on every lb-agent) no later than the agent reported the task killed.
 */
export function expectRemovedBeforeKilled(task: any, lbRequests: any[]): void {
  const upstream = `${task.host}:${task.ports[0]}`;
  const killedAt = task.updates.find((u: any) => u.state === 'TASK_KILLED')?.at;
  expect(killedAt, `${task.id} was killed`).toBeTypeOf('number');
  const removals = lbRequests.filter(
    (r) =>
      r.state === 'SUCCESS' && r.request.removeUpstreams.some((u: any) => u.upstream === upstream),
  );
  expect(removals.length, `a request removed ${upstream}`).toBeGreaterThan(0);
  expect(Math.min(...removals.map((r) => r.updatedAt))).toBeLessThanOrEqual(killedAt);
}

/** Checks invariant 5 for each of `ids` from web's task history; returns their records. */
export async function expectEndedOutFirst(cluster: TestCluster, ids: string[]): Promise<any[]> {
  const history = await callJson(`${anyUrl(cluster)}/api/history/request/web/tasks`, 'GET');
  const ended = history.body as any[];
  const lbRequests = await storedLbRequests(cluster);
  return ids.map((id) => {
    const task = ended.find((t) => t.id === id);
    expect(task, `${id} in history`).toBeDefined();
    expectRemovedBeforeKilled(task, lbRequests);
    return task;
  });
}
