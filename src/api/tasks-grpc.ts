/**
 * The `Scheduler` RPCs of requests, deploys, tasks and agents: the same TasksApi (and so the
 * same zod validation and error codes) as the HTTP routes, mapped to and from protobuf.
 */
import * as grpc from '@grpc/grpc-js';
import type { AgentRecord, Deploy, Task } from '../state/index.js';
import type { AgentInfo } from '../gen/thales/v1/AgentInfo.js';
import type { DeployInfo } from '../gen/thales/v1/DeployInfo.js';
import type { SubmitDeployRequest__Output } from '../gen/thales/v1/SubmitDeployRequest.js';
import type { RequestParent as RequestParentMsg } from '../gen/thales/v1/RequestParent.js';
import type { SchedulerHandlers } from '../gen/thales/v1/Scheduler.js';
import type { SingularityRequest__Output } from '../gen/thales/v1/SingularityRequest.js';
import type { TaskInfo } from '../gen/thales/v1/TaskInfo.js';
import type { WatchTasksRequest__Output } from '../gen/thales/v1/WatchTasksRequest.js';
import { toGrpcError } from '../runtime/index.js';
import { ApiError } from './errors.js';
import type { RequestParent, TasksApi } from './tasks-api.js';

/** Where WatchTasks gets task changes: the leader's persisted transitions. */
export interface TaskWatchSource {
  /** Whether this replica leads (only the leader sees every transition). */
  isLeading(): boolean;
  /** The leader's gRPC address, for a follower's refusal. */
  leaderAddress(): Promise<string | null>;
  /** Calls `onTask` with every persisted change and `onEnd` when leadership ends. */
  subscribe(onTask: (t: Task) => void, onEnd: () => void): () => void;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

/** An async handler answered with its result, or the registry status of its error. */
function unary<Req, Res>(run: (req: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    run(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcError(err)),
    );
  };
}

function toRequestInput(m: SingularityRequest__Output): Record<string, unknown> {
  const out: Record<string, unknown> = { id: m.id, requestType: m.requestType };
  if (m._instances) out.instances = m.instances;
  if (m._rackSensitive) out.rackSensitive = m.rackSensitive;
  if (m._agentPlacement) out.agentPlacement = m.agentPlacement;
  if (m._loadBalanced) out.loadBalanced = m.loadBalanced;
  if (Object.keys(m.requiredAgentAttributes).length)
    out.requiredAgentAttributes = m.requiredAgentAttributes;
  const allowed = Object.entries(m.allowedAgentAttributes);
  if (allowed.length)
    out.allowedAgentAttributes = Object.fromEntries(allowed.map(([k, v]) => [k, v.split(',')]));
  if (m.owners.length) out.owners = m.owners;
  return out;
}

function toDeployInput(m: SubmitDeployRequest__Output): Record<string, unknown> {
  const resources: Record<string, number> = {};
  const r = m.resources;
  if (r?._cpus) resources.cpus = r.cpus as number;
  if (r?._memoryMb) resources.memoryMb = r.memoryMb as number;
  if (r?._diskMb) resources.diskMb = r.diskMb as number;
  if (r?._numPorts) resources.numPorts = r.numPorts as number;
  const deploy: Record<string, unknown> = {
    requestId: m.requestId,
    id: m.id,
    command: m.command,
    arguments: m.arguments,
    env: m.env,
    resources,
  };
  return m.message ? { deploy, message: m.message } : { deploy };
}

function toDeployInfo(d: Deploy | undefined): DeployInfo | null {
  return d ? { ...d, resources: d.resources } : null;
}

function toParentMsg(p: RequestParent): RequestParentMsg {
  const r = p.request;
  return {
    request: {
      ...r,
      allowedAgentAttributes: Object.fromEntries(
        Object.entries(r.allowedAgentAttributes).map(([k, v]) => [k, v.join(',')]),
      ),
    },
    state: p.state,
    activeDeploy: toDeployInfo(p.activeDeploy),
    pendingDeploy: toDeployInfo(p.pendingDeploy),
    timestamp: p.timestamp,
    stateMessage: p.stateMessage ?? '',
  };
}

/** The protobuf form of a task. */
export function toTaskInfo(t: Task): TaskInfo {
  return {
    ...t,
    updates: t.updates.map((u) => ({
      state: u.state,
      at: u.at,
      message: u.message ?? '',
      hasExitCode: u.exitCode !== undefined,
      exitCode: u.exitCode ?? 0,
    })),
  };
}

function toAgentInfo(a: AgentRecord): AgentInfo {
  return { ...a, lost: !!a.lostAt, resources: { ...a.resources, numPorts: 0 } };
}

/** The handlers; `watch` serves WatchTasks. */
export function makeTasksGrpcHandlers(
  api: TasksApi,
  watch: TaskWatchSource,
): Partial<SchedulerHandlers> {
  return {
    SaveRequest: unary(async (m: SingularityRequest__Output) =>
      toParentMsg(await api.saveRequest(toRequestInput(m))),
    ),
    GetRequest: unary(async (m) => toParentMsg(await api.getRequest(m.requestId))),
    ListRequests: unary(async () => ({ requests: (await api.listRequests()).map(toParentMsg) })),
    ScaleRequest: unary(async (m) => {
      const body = m.message
        ? { instances: m.instances, message: m.message }
        : { instances: m.instances };
      return toParentMsg(await api.scale(m.requestId, body));
    }),
    PauseRequest: unary(async (m) =>
      toParentMsg(await api.action(m.requestId, 'pause', undefined)),
    ),
    UnpauseRequest: unary(async (m) =>
      toParentMsg(await api.action(m.requestId, 'unpause', undefined)),
    ),
    DeleteRequest: unary(async (m) =>
      toParentMsg(await api.action(m.requestId, 'delete', undefined)),
    ),
    SubmitDeploy: unary(async (m: SubmitDeployRequest__Output) =>
      toParentMsg(await api.deploy(toDeployInput(m))),
    ),
    ListActiveTasks: unary(async (m) => ({
      tasks: (await api.activeTasks(m.agentId || undefined)).map(toTaskInfo),
    })),
    GetTask: unary(async (m) => toTaskInfo(await api.getTask(m.taskId))),
    KillTask: unary(async (m) => api.killTask(m.taskId, undefined)),
    ListAgents: unary(async () => ({ agents: (await api.listAgents()).map(toAgentInfo) })),
    SetAgentState: unary(async (m) => {
      if (!['freeze', 'decommission', 'activate'].includes(m.action)) {
        throw new ApiError('INVALID_ARGUMENT', 'action: must be freeze, decommission or activate', {
          field: 'action',
        });
      }
      return toAgentInfo(await api.setAgentState(m.agentId, m.action as 'freeze', undefined));
    }),
    WatchTasks: (call) => void serveWatch(call, api, watch),
  };
}

async function serveWatch(
  call: grpc.ServerWritableStream<WatchTasksRequest__Output, TaskInfo>,
  api: TasksApi,
  watch: TaskWatchSource,
): Promise<void> {
  const fail = (code: grpc.status, details: string): void =>
    void call.emit('error', { code, details });
  if (!watch.isLeading()) {
    const leader = await watch.leaderAddress().catch(() => null);
    return fail(grpc.status.UNAVAILABLE, `NOT_LEADER: watch the leader at ${leader ?? 'unknown'}`);
  }
  const rid = call.request.requestId;
  const wanted = (t: Task): boolean => !rid || t.requestId === rid;
  const backlog: Task[] = [];
  let live = false;
  const unsubscribe = watch.subscribe(
    (t) => {
      if (!wanted(t)) return;
      if (live) call.write(toTaskInfo(t));
      else backlog.push(t);
    },
    () => fail(grpc.status.UNAVAILABLE, 'NOT_LEADER: leadership moved; watch again'),
  );
  call.on('cancelled', unsubscribe);
  call.on('close', unsubscribe);
  try {
    for (const t of (await api.activeTasks()).filter(wanted)) call.write(toTaskInfo(t));
  } catch (err) {
    unsubscribe();
    const e = toGrpcError(err);
    return fail(e.code, e.details);
  }
  for (const t of backlog.splice(0)) call.write(toTaskInfo(t));
  live = true;
}
