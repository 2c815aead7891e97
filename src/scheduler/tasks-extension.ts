import {
  type TaskWatchSource,
  TasksApi,
  makeTasksGrpcHandlers,
  makeTasksRouter,
} from '../api/index.js';
import { readLeaderGrpcAddress } from '../leader/index.js';
import { addAgentService } from './agent-endpoint.js';
import type { ReplicaExtension, ReplicaExtensionFactory } from './replica.js';
import { DEFAULT_TASK_LEADER_OPTIONS, type TaskLeaderOptions } from './task-leader-context.js';
import { TaskScheduler } from './task-scheduler.js';

/**
 * Requests, deploys, tasks and agents as a replica extension: the API routes and gRPC
 * services on every replica, the task scheduler as a leader service. Environment overrides
 * (tests): THALES_AGENT_RECONNECT_GRACE_MS, THALES_AGENT_LOST_MS,
 * THALES_AGENT_HEARTBEAT_TIMEOUT_MS.
 */
export function makeTasksExtensionFactory(
  overrides: Partial<TaskLeaderOptions> = {},
): ReplicaExtensionFactory {
  return (ctx): ReplicaExtension => {
    const d = DEFAULT_TASK_LEADER_OPTIONS;
    const options: TaskLeaderOptions = {
      ...d,
      reconnectGraceMs: envMs('THALES_AGENT_RECONNECT_GRACE_MS', d.reconnectGraceMs),
      agentLostMs: envMs('THALES_AGENT_LOST_MS', d.agentLostMs),
      heartbeatTimeoutMs: envMs('THALES_AGENT_HEARTBEAT_TIMEOUT_MS', d.heartbeatTimeoutMs),
      matcherThreads: ctx.config.matcherThreads,
      ...overrides,
    };
    const scheduler = new TaskScheduler(ctx.zk, options, ctx.logger, ctx.registry);
    const api = new TasksApi(ctx.zk);
    const logger = ctx.logger.child({ component: 'agent-endpoint' });
    const watch: TaskWatchSource = {
      isLeading: () => scheduler.acceptingTerm !== undefined,
      leaderAddress: () => readLeaderGrpcAddress(ctx.zk),
      subscribe(onTask, onEnd) {
        scheduler.events.on('task', onTask);
        scheduler.events.once('revoked', onEnd);
        return () => {
          scheduler.events.off('task', onTask);
          scheduler.events.off('revoked', onEnd);
        };
      },
    };
    return {
      leaderServices: [scheduler],
      routers: [makeTasksRouter(api, (id) => scheduler.connectivity(id))],
      addGrpcServices: (server) => addAgentService(server, { scheduler, zk: ctx.zk, logger }),
      schedulerHandlers: makeTasksGrpcHandlers(api, watch),
      stop: () => scheduler.close(),
    };
  };
}

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
