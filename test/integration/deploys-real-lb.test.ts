/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers are checked field by field */
import { describe, expect, it } from 'vitest';
import { useZooKeeper, waitFor } from '../harness/index.js';
import {
  startWebOnV1,
  submitDeploy,
  fastChecks,
  waitDeployEnded,
  waitServedBy,
  watchSteps,
} from '../harness/lb-deploys.js';
import { startTraffic } from '../harness/lb-traffic.js';
import { activeTasks, anyUrl, callJson, shortAgentGraces } from '../harness/tasks-cluster.js';

// Real ZooKeeper, real replicas, two real agents, two real lb-agents each with its own nginx.
const zk = useZooKeeper();
// Failover here is the leader's, not an agent's: an agent that reconnects slowly on a loaded
// machine must not be declared lost (its tasks' upstreams would then leave nginx at once, by
// design, before their replacements are healthy).
shortAgentGraces({ THALES_AGENT_RECONNECT_GRACE_MS: '30000', THALES_AGENT_LOST_MS: '60000' });

/** Generous: two real agents, two nginx and a JVM on 2 loaded cores. */
const TEST_MS = 300_000;

describe('stepped deploys behind real nginx lb-agents (real agents, ZooKeeper)', () => {
  it(
    'v1 → v2 one instance per step: 0 failed requests; v3 never healthy: FAILED, rolled back, v2 at 4, 0 failed',
    async () => {
      const { cluster, lb } = await startWebOnV1(zk());

      const traffic = startTraffic(
        lb.agents.map((a) => a.nginxPort),
        '/web/hello',
      );
      await submitDeploy(cluster, { id: 'v2', deployInstanceCountPerStep: 1 });
      const steps = watchSteps(cluster);
      const v2 = await waitDeployEnded(cluster, 'v2');
      // One instance per step: four steps. At most the count, the step's new task, and the
      // previous step's old task still ending (out of nginx, its kill sent) are active.
      const seen = await steps.stop();
      expect(Math.max(...seen.map((s) => s.step))).toBe(4);
      expect(Math.max(...seen.map((s) => s.tasks))).toBeLessThanOrEqual(6);
      expect(v2.activeDeploy.deployResult.deployState).toBe('SUCCEEDED');
      await waitServedBy(lb, 'v2', 4);
      // DONE once the old tasks' kills are sent (docs/deploys.md): their ends follow.
      await waitFor(
        'only the 4 v2 tasks active',
        async () => {
          const web = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
          const ids = web.map((t) => t.deployId);
          if (JSON.stringify(ids) === JSON.stringify(['v2', 'v2', 'v2', 'v2'])) return true;
          throw new Error(web.map((t) => `${t.deployId}/${t.instanceNo} ${t.state}`).join(', '));
        },
        { timeoutMs: 30_000 },
      );

      // v3 never listens: its startup checks fail, the deploy fails and rolls back to v2.
      await submitDeploy(cluster, {
        id: 'v3',
        deployInstanceCountPerStep: 1,
        env: { DEMO_START_DELAY_MS: '600000' },
        healthcheck: { ...fastChecks, startupTimeoutSeconds: 3 },
      });
      await waitDeployEnded(cluster, 'v2');
      const zkc = await cluster.coordinator();
      const v3 = JSON.parse((await zkc.get('/deploys/web/history/v3')).data.toString());
      expect(v3.deployResult.deployState).toBe('FAILED');
      expect(v3.deployResult.deployFailures[0].reason).toBe('TASK_FAILED_HEALTH_CHECKS');
      await waitFor(
        'v2 alone at 4 running',
        async () => {
          const web = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
          const ok = web.length === 4 && web.every((t) => t.deployId === 'v2');
          if (ok && web.every((t) => t.state === 'TASK_RUNNING')) return true;
          throw new Error(web.map((t) => `${t.deployId}/${t.instanceNo} ${t.state}`).join(', '));
        },
        { timeoutMs: 60_000 },
      );

      const answers = await traffic.stop();
      expect(traffic.failures()).toEqual([]);
      expect(answers.length).toBeGreaterThan(100);
      const deploysAnswering = new Set(answers.map((a) => a.taskId?.split('-')[1]));
      expect(deploysAnswering).toEqual(new Set(['v1', 'v2']));
    },
    TEST_MS,
  );

  it(
    'the leader SIGKILLed in the middle of a step: the new leader resumes the same step and the deploy SUCCEEDs, 0 failed requests',
    async () => {
      const { cluster, lb, url } = await startWebOnV1(zk());
      const traffic = startTraffic(
        lb.agents.map((a) => a.nginxPort),
        '/web/hello',
      );
      // A wait between steps, so the kill lands in the middle of the deploy.
      await submitDeploy(cluster, {
        id: 'v2',
        deployInstanceCountPerStep: 1,
        deployStepWaitTimeMs: 1500,
      });
      const before = await waitFor(
        'v2 in step 2',
        async () => {
          const r = (await callJson(`${url}/api/requests/request/web`, 'GET')).body as any;
          const state = r.pendingDeployState;
          if (state?.step === 2) return state;
          throw new Error(JSON.stringify(state ?? null));
        },
        { timeoutMs: 120_000, intervalMs: 50 },
      );
      const leader = await cluster.waitForLeader();
      leader.replica.process.signal('SIGKILL');
      const next = await cluster.waitForLeader({ aboveTerm: leader.term, timeoutMs: 60_000 });
      expect(next.replicaId).not.toBe(leader.replicaId);
      // The new leader resumed from the stored progress: same deploy, no step went back.
      const resumed = (await callJson(`${anyUrl(cluster)}/api/requests/request/web`, 'GET'))
        .body as any;
      if (resumed.pendingDeployState) {
        expect(resumed.pendingDeployState.deployMarker).toEqual(before.deployMarker);
        expect(resumed.pendingDeployState.step).toBeGreaterThanOrEqual(2);
      }
      const v2 = await waitDeployEnded(cluster, 'v2');
      expect(v2.activeDeploy.deployResult.deployState).toBe('SUCCEEDED');
      await waitServedBy(lb, 'v2', 4);
      const web = (await activeTasks(cluster)).filter((t) => t.requestId === 'web');
      expect(web.map((t) => t.deployId).sort()).toEqual(['v2', 'v2', 'v2', 'v2']);
      await traffic.stop();
      expect(traffic.failures()).toEqual([]);
    },
    TEST_MS,
  );
});
