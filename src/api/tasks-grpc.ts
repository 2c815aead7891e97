/**
 * The `Scheduler` RPCs of requests, deploys, tasks and agents: the same TasksApi (and so the
 * same zod validation and error codes) as the HTTP routes, mapped to and from protobuf; the
 * watches from this replica's state cache.
 */
import * as grpc from '@grpc/grpc-js';
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

/** A grpc-js unary handler. */
type Unary<Req, Res> = (
  call: grpc.ServerUnaryCall<Req, Res>,
  callback: grpc.sendUnaryData<Res>,
) => void;

/** The metadata key (and HTTP header) of how old the answering replica's view may be. */
export const VIEW_AGE_KEY = 'x-thales-view-age-ms';

/**
 * Makes unary handlers: an async handler answered with its result (and the replica's view
 * age, from `viewAge`, in the initial metadata), or the registry status of its error.
 */
export function makeUnary(viewAge: () => number | undefined) {
  return <Req, Res>(run: (req: Req) => Promise<Res>): Unary<Req, Res> =>
    (call, callback) => {
      run(call.request).then(
        (res) => {
          const age = viewAge();
          if (age !== undefined) {
            const metadata = new grpc.Metadata();
            metadata.set(VIEW_AGE_KEY, String(age));
            call.sendMetadata(metadata);
          }
          callback(null, res);
        },
        (err: unknown) => callback(toGrpcError(err)),
      );
    };
}

/** The handlers of requests, deploys, tasks and agents, and the two watches. */
export function makeTasksGrpcHandlers(
  api: TasksApi,
  cache: StateCache,
): Partial<SchedulerHandlers> {
  const unary = makeUnary(() => api.viewAgeMs());
  const parent = toRequestParentMessage;
  return {
    SaveRequest: unary(async (message: SingularityRequest__Output) =>
      parent(await api.saveRequest(toRequestInput(message))),
    ),
    GetRequest: unary(async (message) =>
      parent(await api.getRequest(message.requestId, fromProtoConsistency(message.consistency))),
    ),
    ListRequests: unary(async (message) => ({
      requests: (await api.listRequests(fromProtoConsistency(message.consistency))).map(parent),
    })),
    ScaleRequest: unary(async (message) => {
      const body = message.message
        ? { instances: message.instances, message: message.message }
        : { instances: message.instances };
      return parent(await api.scale(message.requestId, body));
    }),
    PauseRequest: unary(async (message) =>
      parent(await api.action(message.requestId, 'pause', undefined)),
    ),
    UnpauseRequest: unary(async (message) =>
      parent(await api.action(message.requestId, 'unpause', undefined)),
    ),
    DeleteRequest: unary(async (message) =>
      parent(await api.action(message.requestId, 'delete', undefined)),
    ),
    SubmitDeploy: unary(async (message: SubmitDeployRequest__Output) =>
      parent(await api.deploy(toDeployInput(message))),
    ),
    ListActiveTasks: unary(async (message) => {
      const tasks = await api.activeTasks(
        message.agentId || undefined,
        fromProtoConsistency(message.consistency),
      );
      return { tasks: tasks.map(toTaskInfo) };
    }),
    GetTask: unary(async (message) =>
      toTaskInfo(await api.getTask(message.taskId, fromProtoConsistency(message.consistency))),
    ),
    KillTask: unary(async (message) => api.killTask(message.taskId, undefined)),
    ListAgents: unary(async (message) => ({
      agents: (await api.listAgents(fromProtoConsistency(message.consistency))).map(toAgentInfo),
    })),
    SetAgentState: unary(async (message) => {
      if (!['freeze', 'decommission', 'activate'].includes(message.action)) {
        throw new ApiError('INVALID_ARGUMENT', 'action: must be freeze, decommission or activate', {
          field: 'action',
        });
      }
      const action = message.action as 'freeze' | 'decommission' | 'activate';
      return toAgentInfo(await api.setAgentState(message.agentId, action, undefined));
    }),
    WatchTasks: (call) => serveWatchTasks(call, cache),
    WatchRequests: (call) => serveWatchRequests(call, cache),
  };
}
