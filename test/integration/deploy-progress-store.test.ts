import { describe, expect, it } from 'vitest';
import { startDeploy } from '../../src/deploys/index.js';
import {
  finishDeployOps,
  writeDeployProgressOp,
  type DeployResult,
} from '../../src/state/index.js';
import { useZooKeeper } from '../harness/index.js';
import { callJson, startTasksApiServer } from '../harness/tasks-api-server.js';

const zk = useZooKeeper();

const deploy = (id: string) => ({
  deploy: {
    requestId: 'web',
    id,
    command: 'sleep',
    arguments: ['100'],
    deployInstanceCountPerStep: 1,
  },
});

describe('deploy progress and results in ZooKeeper (real ZooKeeper)', () => {
  it('a progress document shows as pendingDeployState; finishing moves deploys with their result', async () => {
    const s = await startTasksApiServer(zk().connectString);
    await callJson(`${s.url}/api/requests`, 'POST', {
      id: 'web',
      requestType: 'SERVICE',
      instances: 3,
    });
    await callJson(`${s.url}/api/deploys`, 'POST', deploy('v1'));
    const v1 = (await s.api.deploys.forRequest('web')).pending!;
    // v1 succeeds: it becomes active with its result, and the progress document goes.
    const p1 = startDeploy({
      requestId: 'web',
      deployId: 'v1',
      previousDeployId: null,
      instances: 3,
      steps: {
        deployInstanceCountPerStep: 1,
        deployStepWaitTimeMs: 0,
        autoAdvanceDeploySteps: true,
      },
      now: 1,
    });
    await s.zk.multi([writeDeployProgressOp(p1, true)]);
    const shown = await callJson(`${s.url}/api/requests/request/web`, 'GET');
    expect(shown.body.pendingDeployState).toMatchObject({
      deployMarker: { requestId: 'web', deployId: 'v1' },
      currentDeployState: 'WAITING',
      step: 1,
      deployProgress: { targetActiveInstances: 1, currentActiveInstances: 0, stepComplete: false },
    });
    const ok: DeployResult = { deployState: 'SUCCEEDED', deployFailures: [], timestamp: 5 };
    await s.zk.multi(finishDeployOps(p1, ok, v1, null));
    let d = await s.api.deploys.forRequest('web');
    expect(d.active).toMatchObject({ id: 'v1', deployResult: ok });
    expect(d.pending).toBeNull();
    expect(await s.api.deploys.progress('web')).toBeNull();

    // v2 fails: it goes to history with its result; v1 stays active.
    await callJson(`${s.url}/api/deploys`, 'POST', deploy('v2'));
    const v2 = (await s.api.deploys.forRequest('web')).pending!;
    const p2 = {
      ...startDeploy({
        requestId: 'web',
        deployId: 'v2',
        previousDeployId: 'v1',
        instances: 3,
        steps: {
          deployInstanceCountPerStep: 1,
          deployStepWaitTimeMs: 0,
          autoAdvanceDeploySteps: true,
        },
        now: 6,
      }),
      step: 2,
    };
    await s.zk.multi([writeDeployProgressOp(p2, true)]);
    await s.zk.multi([writeDeployProgressOp({ ...p2, step: 3 }, false)]);
    expect((await s.api.deploys.progress('web'))?.step).toBe(3);
    const failed: DeployResult = {
      deployState: 'FAILED',
      message: '2 new task(s) failed',
      deployFailures: [
        {
          reason: 'TASK_FAILED_HEALTH_CHECKS',
          taskId: 'web-v2-1-1-a',
          message: 'reported unhealthy',
        },
      ],
      timestamp: 9,
    };
    await s.zk.multi(finishDeployOps(p2, failed, v2, v1));
    d = await s.api.deploys.forRequest('web');
    expect(d.active?.id).toBe('v1');
    expect(d.pending).toBeNull();
    expect(await s.api.deploys.find('web', 'v2')).toMatchObject({ deployResult: failed });
    const after = await callJson(`${s.url}/api/requests/request/web`, 'GET');
    expect(after.body.pendingDeployState).toBeUndefined();
  });
});
