import {
  DeploysApi,
  ScheduledTasksApi,
  StateCache,
  TasksApi,
  makeDeploysGrpcHandlers,
  makeDeploysRouter,
  makeScheduledTasksRouter,
  makeTasksGrpcHandlers,
  makeTasksRouter,
} from '../api/index.js';
import { WatchedState } from '../state/index.js';
import { addAgentService } from './agent-endpoint.js';
import type { ReplicaExtension, ReplicaExtensionFactory } from './replica.js';
import { DEFAULT_TASK_LEADER_OPTIONS, type TaskLeaderOptions } from './task-leader-context.js';
import { TaskScheduler } from './task-scheduler.js';

/**
 * Requests, deploys, tasks and agents as a replica extension: the API routes and gRPC
 * services on every replica (watches from the replica's own state cache, so followers serve
 * them too), the task scheduler as a leader service. Environment overrides (tests):
 * THALES_AGENT_RECONNECT_GRACE_MS, THALES_AGENT_LOST_MS, THALES_AGENT_HEARTBEAT_TIMEOUT_MS.
 */
export function makeTasksExtensionFactory(
  overrides: Partial<TaskLeaderOptions> = {},
): ReplicaExtensionFactory {
  return (replica): ReplicaExtension => {
    const defaults = DEFAULT_TASK_LEADER_OPTIONS;
    const options: TaskLeaderOptions = {
      ...defaults,
      reconnectGraceMs: envMs('THALES_AGENT_RECONNECT_GRACE_MS', defaults.reconnectGraceMs),
      agentLostMs: envMs('THALES_AGENT_LOST_MS', defaults.agentLostMs),
      heartbeatTimeoutMs: envMs('THALES_AGENT_HEARTBEAT_TIMEOUT_MS', defaults.heartbeatTimeoutMs),
      matcherThreads: replica.config.matcherThreads,
      ...overrides,
    };
    // One watched copy per replica, shared by the API's reads and watches and the leader's
    // cycles; it outlives leaderships, so a takeover plans on a loaded copy.
    const state = new WatchedState(
      replica.zk,
      replica.logger.child({ component: 'state-cache' }),
      replica.registry,
    );
    const scheduler = new TaskScheduler(
      replica.zk,
      state,
      options,
      replica.logger,
      replica.registry,
      () => replica.loadBalancer?.current,
    );
    const api = new TasksApi(replica.zk, state);
    const cache = new StateCache(replica.zk, state, replica.logger.child({ component: 'watch' }));
    const logger = replica.logger.child({ component: 'agent-endpoint' });
    const deploys = new DeploysApi(replica.zk);
    const scheduled = new ScheduledTasksApi({
      local: () => scheduler.scheduledTasks(),
      leader: () => replica.view.snapshot().leader,
      replicaId: () => replica.config.replicaId,
    });
    return {
      leaderServices: [scheduler],
      routers: [
        makeTasksRouter(api, (id) => scheduler.connectivity(id)),
        makeDeploysRouter(deploys),
        makeScheduledTasksRouter(scheduled),
      ],
      addGrpcServices: (server) => addAgentService(server, { scheduler, zk: replica.zk, logger }),
      schedulerHandlers: {
        ...makeTasksGrpcHandlers(api, cache),
        ...makeDeploysGrpcHandlers(deploys, scheduled, () => api.viewAgeMs()),
      },
      start: () => {
        cache.start();
        state.start();
      },
      stop: async () => {
        cache.stop();
        state.stop();
        await scheduler.close();
      },
    };
  };
}

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
