import { describe, expect, it } from 'vitest';
import {
  planDeploy,
  startDeploy,
  type DeploySnapshot,
  type DeployTaskView,
} from '../../../src/deploys/index.js';

const progress = startDeploy({
  requestId: 'web',
  deployId: 'v2',
  previousDeployId: 'v1',
  instances: 4,
  steps: { deployInstanceCountPerStep: 2, deployStepWaitTimeMs: 0, autoAdvanceDeploySteps: true },
  now: 1,
});

function task(deployId: string, n: number, over: Partial<DeployTaskView> = {}): DeployTaskView {
  return {
    taskId: `${deployId}-${n}`,
    deployId,
    instanceNo: n,
    state: 'TASK_RUNNING',
    health: 'HEALTHY',
    killing: false,
    lb: deployId === 'v1' ? 'ALL' : 'NONE',
    ...over,
  };
}

function snap(tasks: DeployTaskView[]): DeploySnapshot {
  return {
    now: 10,
    progress,
    instances: 4,
    loadBalanced: true,
    settings: {
      maxTaskRetries: 0,
      deployHealthTimeoutMs: 120_000,
      skipHealthchecksOnDeploy: false,
    },
    tasks,
    lbRequests: new Map(),
  };
}

const old = [1, 2, 3, 4].map((n) => task('v1', n));
const lbActions = (s: DeploySnapshot) => planDeploy(s).actions.filter((a) => a.kind === 'lb');

describe('a step adds its new tasks to the load balancer together', () => {
  it('holds a ready new task while the rest of its step starts and the old ones serve in full', () => {
    const s = snap([...old, task('v2', 1), task('v2', 2, { health: 'STARTING' })]);
    expect(lbActions(s)).toEqual([]);
    expect(planDeploy(s).actions.filter((a) => a.kind === 'kill')).toEqual([]);
  });

  it('adds the whole step in one request once the last of it is healthy', () => {
    const s = snap([...old, task('v2', 1), task('v2', 2)]);
    expect(lbActions(s)).toMatchObject([{ add: ['v2-1', 'v2-2'], remove: [] }]);
  });

  it('adds what is ready at once when an old task died and the request is short', () => {
    const short = [...old.slice(0, 3), task('v1', 4, { state: 'TASK_FAILED', lb: 'NONE' })];
    const s = snap([...short, task('v2', 1), task('v2', 2, { health: 'STARTING' })]);
    expect(lbActions(s)).toMatchObject([{ add: ['v2-1'] }]);
  });
});
