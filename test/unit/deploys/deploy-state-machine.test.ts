import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeDeployWorld, type WorldParams } from './fake-deploy-world.js';

const base: WorldParams = {
  kind: 'DEPLOY',
  instances: 4,
  perStep: 1,
  waitMs: 0,
  autoAdvance: true,
  maxTaskRetries: 0,
  healthTimeoutMs: 120_000,
  skipHealthchecks: false,
  loadBalanced: true,
  lbAgents: 2,
  hasPrevious: true,
  harm: 0,
  benign: true,
  cancelAfter: undefined,
  failovers: false,
};

/** Live tasks of the world as `deployId#instanceNo`, sorted. */
function liveSlots(w: FakeDeployWorld): string[] {
  return w
    .live()
    .map((t) => `${t.deployId}#${t.instanceNo}`)
    .sort();
}

describe('deploy state machine in a fake world (examples)', () => {
  it('v1 → v2 one instance per step: old ones leave the load balancer before they die', () => {
    const w = new FakeDeployWorld(base);
    w.run([]);
    expect(w.results).toHaveLength(1);
    expect(w.results[0]).toMatchObject({ deployState: 'SUCCEEDED', deployFailures: [] });
    expect(liveSlots(w)).toEqual(['v2#1', 'v2#2', 'v2#3', 'v2#4']);
    expect(w.live().every((t) => w.serves(t))).toBe(true);
    expect(w.minRoutedHealthy).toBeGreaterThanOrEqual(4);
    expect(w.progress).toMatchObject({ phase: 'DONE', step: 4, currentDeployState: 'SUCCEEDED' });
    // Each step: one add, then one remove, in that order.
    const lb = w.history.filter((h) => h.includes('"kind":"lb"'));
    expect(lb).toHaveLength(8);
    expect(lb.map((h) => (h.includes('"add":[]') ? 'remove' : 'add'))).toEqual(
      Array.from({ length: 4 }, () => ['add', 'remove']).flat(),
    );
  });

  it('a new task that never turns healthy: FAILED, rolled back, v1 at full count', () => {
    const w = new FakeDeployWorld({ ...base, harm: 3, benign: true });
    // Harm strikes the first task of v2 (it turns unhealthy), then the world is calm.
    const tape = Array.from({ length: 60 }, () => 0);
    w.run(tape);
    const r = w.results[0]!;
    expect(r.deployState).toBe('FAILED');
    expect(r.deployFailures.length).toBeGreaterThan(0);
    expect(liveSlots(w)).toEqual(['v1#1', 'v1#2', 'v1#3', 'v1#4']);
    expect(w.live().every((t) => w.serves(t))).toBe(true);
  });

  it('cancel rolls back the same way and ends CANCELED', () => {
    const w = new FakeDeployWorld({ ...base, cancelAfter: 6 });
    w.run(Array.from({ length: 40 }, (_, i) => i * 7 + 1));
    expect(w.results).toHaveLength(1);
    expect(['CANCELED', 'SUCCEEDED']).toContain(w.results[0]!.deployState);
    if (w.results[0]!.deployState === 'CANCELED') {
      expect(liveSlots(w)).toEqual(['v1#1', 'v1#2', 'v1#3', 'v1#4']);
      expect(w.results[0]!.deployFailures.map((f) => f.reason)).toContain('DEPLOY_CANCELLED');
    }
  });

  it('overdue: a step that cannot complete in deployHealthTimeoutSeconds ends OVERDUE', () => {
    // No agent ever answers the load balancer: time passes until the step is overdue.
    const w = new FakeDeployWorld({ ...base, healthTimeoutMs: 30_000 });
    const tape = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 7 : 1));
    w.run(tape);
    expect(['OVERDUE', 'SUCCEEDED']).toContain(w.results[0]!.deployState);
  });

  it('manual steps wait for an advance; bounce restarts every task through the same steps', () => {
    const manual = new FakeDeployWorld({ ...base, autoAdvance: false, perStep: 2 });
    manual.run([]);
    expect(manual.results[0]!.deployState).toBe('SUCCEEDED');
    expect(manual.history.filter((h) => h.includes('event advance'))).toHaveLength(1);

    const bounce = new FakeDeployWorld({ ...base, kind: 'BOUNCE', instances: 3 });
    const before = new Set(bounce.live().map((t) => t.taskId));
    bounce.run([]);
    expect(bounce.results[0]).toMatchObject({ deployState: 'SUCCEEDED' });
    // Every task is new, the numbers are 1..3 again (one renumbering step), capacity held.
    expect(bounce.live().some((t) => before.has(t.taskId))).toBe(false);
    expect(liveSlots(bounce)).toEqual(['v2#1', 'v2#2', 'v2#3']);
    expect(bounce.progress.step).toBe(4);
    expect(bounce.minRoutedHealthy).toBeGreaterThanOrEqual(3);
  });

  it('a first deploy, without a load balancer, all at once', () => {
    const w = new FakeDeployWorld({
      ...base,
      hasPrevious: false,
      loadBalanced: false,
      perStep: undefined,
    });
    w.run([]);
    expect(w.results[0]!.deployState).toBe('SUCCEEDED');
    expect(w.progress.step).toBe(1);
    expect(liveSlots(w)).toEqual(['v2#1', 'v2#2', 'v2#3', 'v2#4']);
  });
});

const params = fc.record<WorldParams>({
  kind: fc.constantFrom('DEPLOY', 'BOUNCE'),
  instances: fc.integer({ min: 1, max: 5 }),
  perStep: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  waitMs: fc.constantFrom(0, 2000, 30_000),
  autoAdvance: fc.boolean(),
  maxTaskRetries: fc.integer({ min: 0, max: 3 }),
  healthTimeoutMs: fc.constantFrom(20_000, 60_000, 300_000),
  skipHealthchecks: fc.boolean(),
  loadBalanced: fc.boolean(),
  lbAgents: fc.integer({ min: 1, max: 3 }),
  hasPrevious: fc.boolean(),
  harm: fc.integer({ min: 0, max: 3 }),
  benign: fc.boolean(),
  cancelAfter: fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined }),
  failovers: fc.boolean(),
});
const tape = fc.array(fc.nat({ max: 100_000 }), { maxLength: 300 });

describe('deploy state machine properties (fast-check, fake world)', () => {
  it('every run ends in exactly one result; no kill while an lb-agent routes; invariant 3', () => {
    // The world checks the kill, add, launch and result rules as it applies each action and
    // throws WorldViolation on the first breach; run() fails if no result comes.
    fc.assert(
      fc.property(params, tape, (p, t) => {
        const w = new FakeDeployWorld(p);
        w.run(t);
        expect(w.results).toHaveLength(1);
      }),
      { numRuns: 400 },
    );
  });

  it('harm only before a task serves: ready instances served never drop below instances', () => {
    fc.assert(
      fc.property(params, tape, (p, t) => {
        const w = new FakeDeployWorld({ ...p, benign: true });
        w.run(t);
        if (w.capacityOwed) expect(w.minRoutedHealthy).toBeGreaterThanOrEqual(p.instances);
      }),
      { numRuns: 400 },
    );
  });

  it('the end state is what the result says: the new deploy, or the old one, serving in full', () => {
    fc.assert(
      fc.property(params, tape, (p, t) => {
        const w = new FakeDeployWorld(p);
        w.run(t);
        const r = w.results[0]!;
        const restored = p.kind === 'BOUNCE' ? 'v2' : p.hasPrevious ? 'v1' : undefined;
        const want =
          r.deployState === 'SUCCEEDED'
            ? Array.from({ length: p.instances }, (_, i) => `v2#${i + 1}`)
            : restored
              ? Array.from({ length: p.instances }, (_, i) => `${restored}#${i + 1}`)
              : [];
        expect(liveSlots(w)).toEqual(want.sort());
        for (const task of w.live()) expect(w.serves(task)).toBe(true);
        // The load balancer holds exactly the live tasks: nothing ended is left behind.
        if (p.loadBalanced) {
          const live = w
            .live()
            .map((x) => x.taskId)
            .sort();
          expect([...w.record].sort()).toEqual(live);
          for (const a of w.agents) expect([...a].sort()).toEqual(live);
        }
        if (p.kind === 'DEPLOY' && r.deployState !== 'SUCCEEDED') {
          expect(['FAILED', 'CANCELED', 'OVERDUE']).toContain(r.deployState);
        }
      }),
      { numRuns: 400 },
    );
  });
});
