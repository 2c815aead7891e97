/**
 * The protobuf forms of requests, deploys, tasks and agents (`scheduler.proto`), to and from
 * the JSON shapes the shared validation and the stores use.
 */
import type { AgentRecord, Deploy, Task } from '../state/index.js';
import type { AgentInfo } from '../gen/thales/v1/AgentInfo.js';
import type { DeployInfo } from '../gen/thales/v1/DeployInfo.js';
import type { RequestParent as RequestParentMessage } from '../gen/thales/v1/RequestParent.js';
import type { SingularityRequest__Output } from '../gen/thales/v1/SingularityRequest.js';
import type { SubmitDeployRequest__Output } from '../gen/thales/v1/SubmitDeployRequest.js';
import type { TaskInfo } from '../gen/thales/v1/TaskInfo.js';
import type { RequestParent } from './request-parent.js';
import {
  toDeployResultMessage,
  toDeploySettingsInput,
  toDeploySettingsMessage,
} from './deploys-proto.js';

/** A SingularityRequest message as the JSON body the HTTP API takes (unset optionals left out). */
export function toRequestInput(message: SingularityRequest__Output): Record<string, unknown> {
  const input: Record<string, unknown> = { id: message.id, requestType: message.requestType };
  if (message._instances) input.instances = message.instances;
  if (message._rackSensitive) input.rackSensitive = message.rackSensitive;
  if (message._agentPlacement) input.agentPlacement = message.agentPlacement;
  if (message._loadBalanced) input.loadBalanced = message.loadBalanced;
  if (Object.keys(message.requiredAgentAttributes).length)
    input.requiredAgentAttributes = message.requiredAgentAttributes;
  const allowed = Object.entries(message.allowedAgentAttributes);
  if (allowed.length) {
    input.allowedAgentAttributes = Object.fromEntries(
      allowed.map(([name, values]) => [name, values.split(',')]),
    );
  }
  if (message.owners.length) input.owners = message.owners;
  return input;
}

/** A SubmitDeployRequest as the JSON body of `POST /api/deploys`. */
export function toDeployInput(message: SubmitDeployRequest__Output): Record<string, unknown> {
  const resources: Record<string, number> = {};
  const given = message.resources;
  if (given?._cpus) resources.cpus = given.cpus as number;
  if (given?._memoryMb) resources.memoryMb = given.memoryMb as number;
  if (given?._diskMb) resources.diskMb = given.diskMb as number;
  if (given?._numPorts) resources.numPorts = given.numPorts as number;
  const deploy: Record<string, unknown> = {
    requestId: message.requestId,
    id: message.id,
    command: message.command,
    arguments: message.arguments,
    env: message.env,
    resources,
    ...toDeploySettingsInput(message.settings),
  };
  const body: Record<string, unknown> = { deploy };
  if (message.message) body.message = message.message;
  if (message._unpauseOnSuccessfulDeploy)
    body.unpauseOnSuccessfulDeploy = message.unpauseOnSuccessfulDeploy;
  return body;
}

/** The protobuf form of a stored deploy: its settings as given, its result once it ended. */
export function toDeployInfo(deploy: Deploy): DeployInfo {
  return {
    requestId: deploy.requestId,
    id: deploy.id,
    command: deploy.command,
    arguments: deploy.arguments,
    env: deploy.env,
    resources: deploy.resources,
    timestamp: deploy.timestamp,
    message: deploy.message ?? '',
    settings: toDeploySettingsMessage(deploy),
    deployResult: deploy.deployResult ? toDeployResultMessage(deploy.deployResult) : null,
  };
}

function toDeployInfoOrNull(deploy: Deploy | undefined): DeployInfo | null {
  return deploy ? toDeployInfo(deploy) : null;
}

/** The protobuf form of a request with its deploys. */
export function toRequestParentMessage(parent: RequestParent): RequestParentMessage {
  const request = parent.request;
  return {
    request: {
      ...request,
      allowedAgentAttributes: Object.fromEntries(
        Object.entries(request.allowedAgentAttributes).map(([name, v]) => [name, v.join(',')]),
      ),
    },
    state: parent.state,
    activeDeploy: toDeployInfoOrNull(parent.activeDeploy),
    pendingDeploy: toDeployInfoOrNull(parent.pendingDeploy),
    timestamp: parent.timestamp,
    stateMessage: parent.stateMessage ?? '',
    pendingDeployState: parent.pendingDeployState ?? null,
    warnings: parent.warnings ?? [],
    lastBounce: parent.lastBounce
      ? {
          deployMarker: parent.lastBounce.deployMarker,
          deployResult: toDeployResultMessage(parent.lastBounce.deployResult),
        }
      : null,
  };
}

/** The protobuf form of a task. */
export function toTaskInfo(task: Task): TaskInfo {
  return {
    ...task,
    updates: task.updates.map((update) => ({
      state: update.state,
      at: update.at,
      message: update.message ?? '',
      hasExitCode: update.exitCode !== undefined,
      exitCode: update.exitCode ?? 0,
    })),
    healthcheckResults: task.healthcheckResults ?? [],
    health: task.health ?? null,
    killReason: task.killReason ?? '',
  };
}

/** The protobuf form of an agent. */
export function toAgentInfo(agent: AgentRecord): AgentInfo {
  return { ...agent, lost: !!agent.lostAt, resources: { ...agent.resources, numPorts: 0 } };
}
