import { describe, expect, it } from 'vitest';
import {
  deployLbRequestId,
  lbPresence,
  lbRetryDelayMs,
  planDeploy,
  startBounce,
  startDeploy,
  type DeploySnapshot,
} from '../../../src/deploys/index.js';
import { deployProgressSchema } from '../../../src/state/index.js';

const steps = {
  deployInstanceCountPerStep: 2,
  deployStepWaitTimeMs: 0,
  autoAdvanceDeploySteps: true,
};

describe('deploy start, load-balancer presence and ids (pure)', () => {
  it('starts at step 1 with Singularity progress fields; all instances when no step size', () => {
    const p = startDeploy({
      requestId: 'web',
      deployId: 'v2',
      previousDeployId: 'v1',
      instances: 5,
      steps,
      now: 7,
    });
    expect(p).toMatchObject({
      kind: 'DEPLOY',
      phase: 'DEPLOYING',
      currentDeployState: 'WAITING',
      step: 1,
      targetActiveInstances: 2,
      deployInstanceCountPerStep: 2,
      stepComplete: false,
      failedDeployTasks: [],
    });
    expect(deployProgressSchema.parse(p)).toEqual(p);
    const all = startDeploy({
      requestId: 'web',
      deployId: 'v2',
      previousDeployId: null,
      instances: 5,
      steps: { ...steps, deployInstanceCountPerStep: undefined },
      now: 7,
    });
    expect(all.targetActiveInstances).toBe(5);
    const b = startBounce({
      requestId: 'web',
      deployId: 'v2',
      replacing: ['t1', 't2'],
      instances: 2,
      steps,
      now: 1,
    });
    expect(b).toMatchObject({ kind: 'BOUNCE', replacing: ['t1', 't2'], previousDeployId: null });
  });

  it('presence: ALL only when stored and untouched; an open or unreverted request makes it PARTIAL', () => {
    const stored = new Set(['a', 'b']);
    const open = { state: 'WAITING' as const, revertFailed: false, add: ['c'], remove: ['b'] };
    expect(lbPresence('a', stored, [open])).toBe('ALL');
    expect(lbPresence('b', stored, [open])).toBe('PARTIAL');
    expect(lbPresence('c', stored, [open])).toBe('PARTIAL');
    expect(lbPresence('d', stored, [open])).toBe('NONE');
    const failedClean = { ...open, state: 'FAILED' as const };
    expect(lbPresence('c', stored, [failedClean])).toBe('NONE');
    expect(lbPresence('b', stored, [failedClean])).toBe('ALL');
    expect(lbPresence('c', stored, [{ ...failedClean, revertFailed: true }])).toBe('PARTIAL');
  });

  it('request ids are deterministic, fit the load balancer, and differ per request', () => {
    const p = startDeploy({
      requestId: 'r'.repeat(100),
      deployId: 'd'.repeat(50),
      previousDeployId: null,
      instances: 1,
      steps,
      now: 1,
    });
    const a = deployLbRequestId(p, 1);
    expect(a).toBe(deployLbRequestId(p, 1));
    expect(a).not.toBe(deployLbRequestId(p, 2));
    expect(a.length).toBeLessThanOrEqual(128);
    expect(a).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/);
    const short = startDeploy({
      requestId: 'web',
      deployId: 'v2',
      previousDeployId: null,
      instances: 1,
      steps,
      now: 5,
    });
    expect(deployLbRequestId(short, 3)).toBe('web-v2-5-deploy-3');
    expect([1, 2, 3, 9].map(lbRetryDelayMs)).toEqual([1000, 2000, 4000, 30_000]);
  });

  it('a new leader resumes from the stored progress: same step, the request in flight resubmitted', () => {
    let progress = startDeploy({
      requestId: 'web',
      deployId: 'v2',
      previousDeployId: 'v1',
      instances: 2,
      steps: { ...steps, deployInstanceCountPerStep: 1 },
      now: 0,
    });
    progress = {
      ...progress,
      step: 2,
      targetActiveInstances: 2,
      lbRequests: 3,
      lbOp: { lbRequestId: 'web-v2-0-deploy-3', add: ['n2'], remove: [], submittedAt: 0 },
    };
    const stored = deployProgressSchema.parse(JSON.parse(JSON.stringify(progress)));
    const task = (
      taskId: string,
      deployId: string,
      instanceNo: number,
      lb: 'ALL' | 'NONE' | 'PARTIAL',
    ) => ({
      taskId,
      deployId,
      instanceNo,
      state: 'TASK_RUNNING' as const,
      health: 'HEALTHY' as const,
      killing: false,
      lb,
    });
    const snap: DeploySnapshot = {
      now: 10,
      progress: stored,
      instances: 2,
      loadBalanced: true,
      settings: {
        maxTaskRetries: 0,
        deployHealthTimeoutMs: 60_000,
        skipHealthchecksOnDeploy: false,
      },
      tasks: [
        task('o2', 'v1', 2, 'ALL'),
        task('n1', 'v2', 1, 'ALL'),
        task('n2', 'v2', 2, 'PARTIAL'),
      ],
      lbRequests: new Map(),
    };
    const plan = planDeploy(snap);
    expect(plan.progress.step).toBe(2);
    expect(plan.actions).toEqual([
      { kind: 'lb', lbRequestId: 'web-v2-0-deploy-3', add: ['n2'], remove: [], settingsFrom: 'v2' },
    ]);
    // Once it succeeded, the old instance leaves the load balancer (it is not killed yet).
    const next = planDeploy({
      ...snap,
      progress: plan.progress,
      tasks: [task('o2', 'v1', 2, 'ALL'), task('n1', 'v2', 1, 'ALL'), task('n2', 'v2', 2, 'ALL')],
      lbRequests: new Map([['web-v2-0-deploy-3', 'SUCCESS']]),
    });
    expect(next.actions).toEqual([
      { kind: 'lb', lbRequestId: 'web-v2-0-deploy-4', add: [], remove: ['o2'], settingsFrom: 'v2' },
    ]);
    expect(next.changed).toBe(true);
    expect(next.wakeAt).toBe(60_000);
  });
});
