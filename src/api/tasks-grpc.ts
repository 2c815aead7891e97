/**
 * The `Scheduler` RPCs of requests, deploys, tasks and agents: the same TasksApi (and so the
 * same zod validation and error codes) as the HTTP routes, mapped to and from protobuf; the
 * watches from this replica's state cache.
 */
import type * as grpc from '@grpc/grpc-js';
import type { SchedulerHandlers } from '../gen/thales/v1/Scheduler.js';
import type { SingularityRequest__Output } from '../gen/thales/v1/SingularityRequest.js';
import type { SubmitDeployRequest__Output } from '../gen/thales/v1/SubmitDeployRequest.js';
import { toGrpcError } from '../runtime/index.js';
import { ApiError } from './errors.js';
import { fromProtoConsistency } from './read-consistency.js';
import type { StateCache } from './state-cache.js';
import type { TasksApi } from './tasks-api.js';
import {
  toAgentInfo,
  toDeployInput,
  toRequestInput,
  toRequestParentMessage,
  toTaskInfo,
} from './tasks-proto.js';
import { serveWatchRequests, serveWatchTasks } from './watch-streams.js';

type Unary<Req, Res> = (
  call: grpc.ServerUnaryCall<Req, Res>,
  callback: grpc.sendUnaryData<Res>,
) => void;

/** An async handler answered with its result, or the registry status of its error. */
function unary<Req, Res>(run: (req: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    run(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(err)),
    );
  };
}

/** The handlers of requests, deploys, tasks and agents, and the two watches. */
export function makeTasksGrpcHandlers(
  api: TasksApi,
  cache: StateCache,
): Partial<SchedulerHandlers> {
  const parent = toRequestParentMessage;
  return {
    SaveRequest: unary(async (m: SingularityRequest__Output) =>
      parent(await api.saveRequest(toRequestInput(m))),
    ),
    GetRequest: unary(async (m) =>
      parent(await api.getRequest(m.requestId, fromProtoConsistency(m.consistency))),
    ),
    ListRequests: unary(async (m) => ({
      requests: (await api.listRequests(fromProtoConsistency(m.consistency))).map(parent),
    })),
    ScaleRequest: unary(async (m) => {
      const body = m.message
        ? { instances: m.instances, message: m.message }
        : { instances: m.instances };
      return parent(await api.scale(m.requestId, body));
    }),
    PauseRequest: unary(async (m) => parent(await api.action(m.requestId, 'pause', undefined))),
    UnpauseRequest: unary(async (m) => parent(await api.action(m.requestId, 'unpause', undefined))),
    DeleteRequest: unary(async (m) => parent(await api.action(m.requestId, 'delete', undefined))),
    SubmitDeploy: unary(async (m: SubmitDeployRequest__Output) =>
      parent(await api.deploy(toDeployInput(m))),
    ),
    ListActiveTasks: unary(async (m) => {
      const tasks = await api.activeTasks(
        m.agentId || undefined,
        fromProtoConsistency(m.consistency),
      );
      return { tasks: tasks.map(toTaskInfo) };
    }),
    GetTask: unary(async (m) =>
      toTaskInfo(await api.getTask(m.taskId, fromProtoConsistency(m.consistency))),
    ),
    KillTask: unary(async (m) => api.killTask(m.taskId, undefined)),
    ListAgents: unary(async (m) => ({
      agents: (await api.listAgents(fromProtoConsistency(m.consistency))).map(toAgentInfo),
    })),
    SetAgentState: unary(async (m) => {
      if (!['freeze', 'decommission', 'activate'].includes(m.action)) {
        throw new ApiError('INVALID_ARGUMENT', 'action: must be freeze, decommission or activate', {
          field: 'action',
        });
      }
      const action = m.action as 'freeze' | 'decommission' | 'activate';
      return toAgentInfo(await api.setAgentState(m.agentId, action, undefined));
    }),
    WatchTasks: (call) => serveWatchTasks(call, cache),
    WatchRequests: (call) => serveWatchRequests(call, cache),
  };
}
