/**
 * Seeded synthetic clusters and workloads for the offers bench and tests: a heterogeneous fleet over
 * racks, some agents already half busy, and a workload of deploys where 30% of tasks are
 * SEPARATE_BY_DEPLOY, 20% rack-sensitive and some need attributes.
 */
import type { MatchInput, Offer, PendingTask, Placement } from '../offers/index.js';

/** mulberry32; a copy of its own so scenarios do not depend on the engine's code. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENT_TYPES = [
  { type: 'small', cpus: 8, memoryMb: 32_768, diskMb: 200_000, weight: 0.3 },
  { type: 'medium', cpus: 16, memoryMb: 65_536, diskMb: 500_000, weight: 0.35 },
  { type: 'large', cpus: 32, memoryMb: 131_072, diskMb: 1_000_000, weight: 0.2 },
  { type: 'highmem', cpus: 16, memoryMb: 262_144, diskMb: 500_000, weight: 0.1 },
  { type: 'gpu', cpus: 32, memoryMb: 131_072, diskMb: 1_000_000, weight: 0.05 },
] as const;

const TASK_SHAPES = [
  { cpus: 0.25, memoryMb: 512, diskMb: 1_000, weight: 0.25 },
  { cpus: 0.5, memoryMb: 1_024, diskMb: 2_000, weight: 0.25 },
  { cpus: 1, memoryMb: 2_048, diskMb: 5_000, weight: 0.25 },
  { cpus: 2, memoryMb: 4_096, diskMb: 10_000, weight: 0.15 },
  { cpus: 4, memoryMb: 16_384, diskMb: 20_000, weight: 0.1 },
] as const;

function pick<T extends { weight: number }>(items: readonly T[], r: number): T {
  let acc = 0;
  for (const item of items) {
    acc += item.weight;
    if (r < acc) return item;
  }
  return items[items.length - 1]!;
}

/** A fleet of `agents` agents on agents/25 racks (at least 4); about 10% already half busy. */
export function makeFleet(agents: number, seed: number): Offer[] {
  const rnd = makeRandom(seed);
  const racks = Math.max(4, Math.floor(agents / 25));
  return Array.from({ length: agents }, (_, i) => {
    const t = pick(AGENT_TYPES, rnd());
    const busy = rnd() < 0.1 ? 0.5 : 0;
    const rack = i % racks;
    return {
      agentId: `agent-${i}`,
      host: `host-${i}.example`,
      rack: `rack-${rack}`,
      attributes: { instanceType: t.type, zone: `zone-${rack % 3}` },
      cpus: t.cpus * (1 - busy),
      memoryMb: t.memoryMb * (1 - busy),
      diskMb: t.diskMb * (1 - busy),
      ports: [
        { begin: 31_000, end: 31_499 },
        { begin: 32_000, end: 32_499 },
      ],
      runningTasks: busy > 0 ? [{ requestId: `svc-${i % 97}`, deployId: 'd1' }] : [],
    };
  });
}

function deployTemplate(rnd: () => number, d: number) {
  const shape = pick(TASK_SHAPES, rnd());
  const r = rnd();
  // 30% of tasks SEPARATE_BY_DEPLOY, a few per-request/optimistic, the rest greedy.
  const placement: Placement =
    r < 0.3
      ? 'SEPARATE_BY_DEPLOY'
      : r < 0.33
        ? 'SEPARATE_BY_REQUEST'
        : r < 0.38
          ? 'OPTIMISTIC'
          : 'GREEDY';
  const a = rnd();
  const requiredAttributes: Record<string, string> =
    a < 0.03 ? { instanceType: 'large' } : a < 0.05 ? { instanceType: 'gpu' } : {};
  const allowedAttributes: Record<string, string[]> =
    a > 0.95 ? { zone: ['zone-0', 'zone-1'] } : {};
  return {
    requestId: `req-${d}`,
    deployId: `dep-${d}`,
    shape,
    placement,
    rackSensitive: rnd() < 0.2,
    requiredAttributes,
    allowedAttributes,
    priority: Math.floor(rnd() * 3),
    numPorts: Math.floor(rnd() * 3),
  };
}

/** `count` pending tasks in deploys of 1 to 40 instances. */
export function makeWorkload(count: number, seed: number): PendingTask[] {
  const rnd = makeRandom(seed);
  const tasks: PendingTask[] = [];
  for (let d = 0; tasks.length < count; d++) {
    const tpl = deployTemplate(rnd, d);
    const instances = Math.min(count - tasks.length, 1 + Math.floor(rnd() * 40));
    for (let i = 0; i < instances; i++) {
      tasks.push({
        key: { requestId: tpl.requestId, deployId: tpl.deployId, instanceNo: i },
        resources: { ...tpl.shape, numPorts: tpl.numPorts },
        placement: tpl.placement,
        rackSensitive: tpl.rackSensitive,
        requiredAttributes: tpl.requiredAttributes,
        allowedAttributes: tpl.allowedAttributes,
        priority: tpl.priority,
        pendingSince: Math.floor(rnd() * 600_000),
        instances,
      });
    }
  }
  return tasks;
}

/** A whole scenario: `tasks` tasks on `agents` agents. */
export function makeScenario(tasks: number, agents: number, seed: number): MatchInput {
  return { offers: makeFleet(agents, seed), tasks: makeWorkload(tasks, seed + 1) };
}
