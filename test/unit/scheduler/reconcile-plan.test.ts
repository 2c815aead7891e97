import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchOffers } from '../../../src/offers/index.js';
import { buildOffers, freePortRanges } from '../../../src/scheduler/offer-builder.js';
import {
  type PlanRequest,
  type PlanSnapshot,
  type PlanTask,
  planReconcile,
} from '../../../src/scheduler/reconcile-plan.js';
import type { AgentRecord, Deploy, RequestRecord, Task } from '../../../src/state/index.js';

function deploy(requestId: string, id: string): Deploy {
  return {
    requestId,
    id,
    command: 'x',
    arguments: [],
    env: {},
    resources: { cpus: 1, memoryMb: 64, diskMb: 0, numPorts: 1 },
    timestamp: 0,
  };
}

function request(
  id: string,
  instances: number,
  state: RequestRecord['state'] = 'ACTIVE',
): RequestRecord {
  return {
    request: {
      id,
      requestType: 'SERVICE',
      instances,
      rackSensitive: false,
      agentPlacement: 'GREEDY',
      requiredAgentAttributes: {},
      allowedAgentAttributes: {},
      owners: [],
      loadBalanced: false,
    },
    state,
    timestamp: 0,
  };
}

const taskStates = ['TASK_LAUNCHED', 'TASK_STARTING', 'TASK_RUNNING'] as const;
const arbSnapshot: fc.Arbitrary<PlanSnapshot> = fc
  .record({
    reqs: fc.array(
      fc.record({
        instances: fc.integer({ min: 0, max: 8 }),
        state: fc.constantFrom('ACTIVE', 'PAUSED', 'DELETING', 'SYSTEM_COOLDOWN') as fc.Arbitrary<
          RequestRecord['state']
        >,
        active: fc.boolean(),
        pending: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    tasks: fc.array(
      fc.record({
        req: fc.integer({ min: 0, max: 4 }),
        deploy: fc.constantFrom('a', 'p', 'old'),
        instanceNo: fc.integer({ min: 1, max: 10 }),
        state: fc.constantFrom(...taskStates),
        killing: fc.boolean(),
      }),
      { maxLength: 30 },
    ),
    backoff: fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 8 }))),
  })
  .map(({ reqs, tasks, backoff }) => {
    const requests: PlanRequest[] = reqs.map((r, i) => ({
      record: request(`r${i}`, r.instances, r.state),
      active: r.active ? deploy(`r${i}`, 'a') : null,
      pending: r.pending ? deploy(`r${i}`, 'p') : null,
    }));
    // Actual state keeps invariant 3 (it is what the leader committed): dedupe.
    const seen = new Set<string>();
    const planTasks: PlanTask[] = [];
    tasks.forEach((t, i) => {
      const key = `r${t.req}/${t.deploy}/${t.instanceNo}`;
      if (seen.has(key)) return;
      seen.add(key);
      planTasks.push({
        taskId: `t${i}`,
        requestId: `r${t.req}`,
        deployId: t.deploy,
        instanceNo: t.instanceNo,
        state: t.state,
        killing: t.killing,
      });
    });
    const notBefore = new Map(backoff.map(([r, n]) => [`r${r}/${n}`, 2_000]));
    return { requests, tasks: planTasks, notBefore, now: 1_000 };
  });

describe('reconcile plan (pure, property-based)', () => {
  it('invariant 3: launches never reuse an instance number held by an active task of the deploy', () => {
    fc.assert(
      fc.property(arbSnapshot, (snap) => {
        const plan = planReconcile(snap);
        const held = new Set(snap.tasks.map((t) => `${t.requestId}/${t.deployId}/${t.instanceNo}`));
        for (const l of plan.launch) {
          const key = `${l.requestId}/${l.deployId}/${l.instanceNo}`;
          expect(held.has(key)).toBe(false);
          held.add(key); // and two launches never share one either
        }
      }),
      { numRuns: 500 },
    );
  });

  it('launches only for ACTIVE long-running requests, within instances, outside back-off', () => {
    fc.assert(
      fc.property(arbSnapshot, (snap) => {
        const plan = planReconcile(snap);
        for (const l of plan.launch) {
          const r = snap.requests.find((x) => x.record.request.id === l.requestId)!;
          expect(r.record.state).toBe('ACTIVE');
          expect(l.instanceNo).toBeLessThanOrEqual(r.record.request.instances);
          expect(l.deployId).toBe((r.pending ?? r.active)!.id);
          expect(snap.notBefore.get(`${l.requestId}/${l.instanceNo}`) ?? 0).toBeLessThanOrEqual(
            snap.now,
          );
        }
        // Paused and deleted requests keep no task that is not being killed.
        const killed = new Set(plan.kill.map((k) => k.taskId));
        for (const t of snap.tasks) {
          const r = snap.requests.find((x) => x.record.request.id === t.requestId);
          if (!r || r.record.state === 'PAUSED' || r.record.state === 'DELETING') {
            expect(t.killing || killed.has(t.taskId)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('promotes a pending deploy only when all its instances run, then kills the old deploy', () => {
    const r = request('web', 2);
    const base = { notBefore: new Map<string, number>(), now: 0 };
    const t = (id: string, d: string, n: number, state = 'TASK_RUNNING'): PlanTask => ({
      taskId: id,
      requestId: 'web',
      deployId: d,
      instanceNo: n,
      state,
      killing: false,
    });
    const req: PlanRequest = { record: r, active: deploy('web', 'a'), pending: deploy('web', 'p') };
    const half = planReconcile({
      ...base,
      requests: [req],
      tasks: [t('1', 'a', 1), t('2', 'a', 2), t('3', 'p', 1), t('4', 'p', 2, 'TASK_STARTING')],
    });
    expect(half.promote).toEqual([]);
    expect(half.kill).toEqual([]);
    const done = planReconcile({
      ...base,
      requests: [req],
      tasks: [t('1', 'a', 1), t('2', 'a', 2), t('3', 'p', 1), t('4', 'p', 2)],
    });
    expect(done.promote).toEqual([{ requestId: 'web', deployId: 'p' }]);
    expect(done.kill.map((k) => k.taskId).sort()).toEqual(['1', '2']);
  });

  it('scales down from the highest instance numbers', () => {
    const tasks: PlanTask[] = [1, 2, 3, 4].map((n) => ({
      taskId: `t${n}`,
      requestId: 'web',
      deployId: 'a',
      instanceNo: n,
      state: 'TASK_RUNNING',
      killing: false,
    }));
    const plan = planReconcile({
      requests: [{ record: request('web', 2), active: deploy('web', 'a'), pending: null }],
      tasks,
      notBefore: new Map(),
      now: 0,
    });
    expect(plan.kill.map((k) => k.taskId).sort()).toEqual(['t3', 't4']);
    expect(plan.launch).toEqual([]);
  });
});

function agent(id: string, cpus: number, memoryMb: number, ports: [number, number]): AgentRecord {
  return {
    agentId: id,
    host: id,
    rack: 'r1',
    attributes: {},
    resources: { cpus, memoryMb, diskMb: 1000 },
    portRanges: [{ begin: ports[0], end: ports[1] }],
    httpAddress: '',
    state: 'ACTIVE',
    registeredAt: 0,
    stateChangedAt: 0,
  };
}

describe('offers from free resources (invariant 4)', () => {
  it('free port ranges exclude used ports', () => {
    expect(freePortRanges([{ begin: 10, end: 20 }], [10, 15, 20, 99])).toEqual([
      { begin: 11, end: 14 },
      { begin: 16, end: 19 },
    ]);
  });

  it('matching on built offers never over-commits an agent, whatever already runs', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cpus: fc.integer({ min: 1, max: 8 }),
            mem: fc.integer({ min: 64, max: 1024 }),
          }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.array(
          fc.record({
            agent: fc.nat(4),
            cpus: fc.constantFrom(0.1, 0.5, 1),
            mem: fc.constantFrom(16, 64, 128),
          }),
          {
            maxLength: 20,
          },
        ),
        fc.integer({ min: 1, max: 40 }),
        (agentSpecs, running, pendingCount) => {
          const agents = agentSpecs.map((a, i) =>
            agent(`a${i}`, a.cpus, a.mem, [1000 + i * 10, 1000 + i * 10 + 5]),
          );
          // Running tasks only where they fit (the committed state never over-commits).
          const used = new Map<string, { cpus: number; mem: number; ports: number[] }>();
          const tasks: Task[] = [];
          running.forEach((r, i) => {
            const a = agents[r.agent % agents.length]!;
            const u = used.get(a.agentId) ?? { cpus: 0, mem: 0, ports: [] };
            const port = a.portRanges[0]!.begin + u.ports.length;
            if (
              u.cpus + r.cpus > a.resources.cpus ||
              u.mem + r.mem > a.resources.memoryMb ||
              port > a.portRanges[0]!.end
            )
              return;
            u.cpus += r.cpus;
            u.mem += r.mem;
            u.ports.push(port);
            used.set(a.agentId, u);
            tasks.push({
              taskId: `t${i}`,
              requestId: 'old',
              deployId: 'd',
              instanceNo: i + 1,
              agentId: a.agentId,
              host: a.host,
              rack: 'r1',
              startedAt: 0,
              ports: [port],
              resources: { cpus: r.cpus, memoryMb: r.mem, diskMb: 0, numPorts: 1 },
              term: 1,
              state: 'TASK_RUNNING',
              updates: [],
            });
          });
          const offers = buildOffers(
            agents.map((record) => ({ record, connected: true })),
            tasks,
          );
          const result = matchOffers({
            offers,
            tasks: Array.from({ length: pendingCount }, (_, i) => ({
              key: { requestId: 'new', deployId: 'd', instanceNo: i + 1 },
              resources: { cpus: 0.5, memoryMb: 64, diskMb: 0, numPorts: 1 },
            })),
          });
          for (const a of agents) {
            const u = used.get(a.agentId) ?? { cpus: 0, mem: 0, ports: [] };
            const mine = result.assignments.filter((x) => x.agentId === a.agentId);
            const cpus = u.cpus + mine.reduce((s, x) => s + x.resources.cpus, 0);
            const mem = u.mem + mine.reduce((s, x) => s + x.resources.memoryMb, 0);
            expect(cpus).toBeLessThanOrEqual(a.resources.cpus + 1e-9);
            expect(mem).toBeLessThanOrEqual(a.resources.memoryMb);
            const ports = [...u.ports, ...mine.flatMap((x) => x.ports)];
            expect(new Set(ports).size).toBe(ports.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
