/**
 * fast-check generators of random clusters and workloads. fast-check draws the shape (sizes,
 * mix, seed) and a small seeded builder fills in the details, so shrinking still reduces the
 * cluster and workload sizes. Placement is uniform per request and rack sensitivity per
 * deploy, as in real requests (and as the independent checker assumes).
 */
import fc from 'fast-check';
import type { MatchInput, Offer, PendingTask, Placement } from '../../../src/offers/index.js';

/** What fast-check varies. */
export interface WorldShape {
  seed: number;
  agents: number;
  racks: number;
  requests: number;
  deploys: number;
  maxInstances: number;
  sharedHosts: boolean;
  tight: boolean;
}

/** Random world shapes: up to 30 agents and ~100 tasks, so a property run stays fast. */
export const worldShape: fc.Arbitrary<WorldShape> = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  agents: fc.integer({ min: 1, max: 30 }),
  racks: fc.integer({ min: 1, max: 6 }),
  requests: fc.integer({ min: 1, max: 8 }),
  deploys: fc.integer({ min: 1, max: 14 }),
  maxInstances: fc.integer({ min: 1, max: 10 }),
  sharedHosts: fc.boolean(),
  tight: fc.boolean(),
});

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PLACEMENTS: Placement[] = [
  'GREEDY',
  'OPTIMISTIC',
  'SEPARATE',
  'SEPARATE_BY_DEPLOY',
  'SEPARATE_BY_REQUEST',
  'SPREAD_ALL_AGENTS',
];

function pickOf<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function makeAgents(s: WorldShape, r: () => number): Offer[] {
  return Array.from({ length: s.agents }, (_, i) => {
    const scale = s.tight ? 0.5 : 1;
    const state = r() < 0.08 ? pickOf(r, ['FROZEN', 'DECOMMISSIONING'] as const) : 'ACTIVE';
    const running = Array.from({ length: Math.floor(r() * 3) }, () => {
      const req = Math.floor(r() * s.requests);
      return { requestId: `req-${req}`, deployId: `dep-${Math.floor(r() * s.deploys)}` };
    });
    return {
      agentId: `agent-${i}`,
      // Two agents on one host now and then: host rules count per host, not per agent.
      host: s.sharedHosts ? `host-${Math.floor(i / 2)}` : `host-${i}`,
      rack: `rack-${i % s.racks}`,
      attributes: { type: pickOf(r, ['a', 'b', 'c']), ...(r() < 0.3 ? { gpu: 'yes' } : {}) },
      cpus: Math.round(pickOf(r, [1, 2, 4, 8]) * scale * 10) / 10,
      memoryMb: pickOf(r, [1024, 4096, 8192]) * scale,
      diskMb: pickOf(r, [1000, 10_000]),
      ports: r() < 0.2 ? [] : [{ begin: 31_000, end: 31_000 + Math.floor(r() * 6) }],
      runningTasks: running,
      state,
    };
  });
}

interface DeploySpec {
  requestId: string;
  deployId: string;
  placement: Placement;
  rack: boolean;
  instances: number;
  res: PendingTask['resources'];
  required: Record<string, string>;
  allowed: Record<string, string[]>;
}

function makeDeploys(s: WorldShape, r: () => number): DeploySpec[] {
  const noAttributes: Record<string, string> = {};
  const noAllowed: Record<string, string[]> = {};
  const placementOf = Array.from({ length: s.requests }, () => pickOf(r, PLACEMENTS));
  return Array.from({ length: s.deploys }, (_, d) => {
    const req = Math.floor(r() * s.requests);
    const a = r();
    return {
      requestId: `req-${req}`,
      deployId: `dep-${d}`,
      placement: placementOf[req]!,
      rack: r() < 0.25,
      instances: 1 + Math.floor(r() * s.maxInstances),
      res: {
        cpus: pickOf(r, [0.1, 0.2, 0.5, 1, 2]),
        memoryMb: pickOf(r, [128, 512, 1024, 2048]),
        diskMb: pickOf(r, [0, 100, 1000]),
        numPorts: pickOf(r, [0, 0, 1, 2]),
      },
      required:
        a < 0.15 ? { type: pickOf(r, ['a', 'b', 'c']) } : a < 0.2 ? { gpu: 'yes' } : noAttributes,
      allowed: a > 0.85 ? { type: ['a', 'b'] } : noAllowed,
    };
  });
}

/** Builds the cluster and workload of a shape. Running tasks reuse the workload's deploys. */
export function makeWorld(s: WorldShape): MatchInput {
  const r = rng(s.seed);
  const offers = makeAgents(s, r);
  const tasks: PendingTask[] = [];
  for (const d of makeDeploys(s, r)) {
    for (let i = 0; i < d.instances; i++) {
      tasks.push({
        key: { requestId: d.requestId, deployId: d.deployId, instanceNo: i },
        resources: d.res,
        placement: d.placement,
        rackSensitive: d.rack,
        requiredAttributes: d.required,
        allowedAttributes: d.allowed,
        priority: Math.floor(r() * 3),
        pendingSince: Math.floor(r() * 1000),
      });
    }
  }
  return { offers, tasks };
}

/** Random worlds. */
export const world: fc.Arbitrary<MatchInput> = worldShape.map(makeWorld);
