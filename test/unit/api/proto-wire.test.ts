/**
 * The `Scheduler` wire contract: method paths, and each method's request and response fields by
 * number and type. Message names may change (they are not on the wire); these may not, or
 * clients generated from an earlier proto break. A deliberate change edits this table and says
 * so in docs/api.md ("What changed on the wire").
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { protoDir } from '../../../src/runtime/index.js';

const PARENT =
  '1 SingularityRequest request, 2 string state, 3 DeployInfo activeDeploy, ' +
  '4 DeployInfo pendingDeploy, 5 uint64 timestamp, 6 string stateMessage, ' +
  // Added (wire-compatible: new numbers only) with the deploy model of issue 13.
  '7 PendingDeployState pendingDeployState, 8 repeated FieldWarning warnings, ' +
  '9 LastBounce lastBounce';
const TASK =
  '1 string taskId, 2 string requestId, 3 string deployId, 4 uint32 instanceNo, ' +
  '5 string agentId, 6 string host, 7 string rack, 8 string state, 9 repeated uint32 ports, ' +
  '10 uint64 startedAt, 11 repeated TaskUpdateInfo updates, 12 TaskResources resources, ' +
  '13 repeated TaskHealthcheckResult healthcheckResults, 14 TaskHealth health, ' +
  '15 string killReason';
const AGENT =
  '1 string agentId, 2 string host, 3 string rack, 4 string state, 5 string httpAddress, ' +
  '6 bool lost, 7 TaskResources resources, 8 map<string,string> attributes';
const STATE =
  '1 string replicaId, 2 string role, 3 uint64 term, 4 string view, 5 LeaderInfo leader, ' +
  '6 repeated ReplicaInfo replicas, 7 string zookeeper, 8 string version';
const SINGULARITY_REQUEST =
  '1 string id, 2 string requestType, 3 int32 instances, 4 bool rackSensitive, ' +
  '5 string agentPlacement, 6 map<string,string> requiredAgentAttributes, ' +
  '7 map<string,string> allowedAgentAttributes, 8 repeated string owners, 9 bool loadBalanced';
const DEPLOY =
  '1 string requestId, 2 string id, 3 string command, 4 repeated string arguments, ' +
  '5 map<string,string> env, 6 DeployResources resources, 7 string message, ' +
  '8 DeploySettings settings, 9 bool unpauseOnSuccessfulDeploy';
const INTENT_ANSWER = '1 string requestId, 2 string deployId, 3 bool accepted';
const DEPLOY_INFO =
  '1 string requestId, 2 string id, 3 string command, 4 repeated string arguments, ' +
  '5 map<string,string> env, 6 TaskResources resources, 7 uint64 timestamp, ' +
  '8 string message, 9 DeploySettings settings, 10 DeployResult deployResult';

/** rpc → [request fields, response fields] ("stream " marks a server stream). */
const WIRE: Record<string, [string, string]> = {
  GetState: ['', STATE],
  SaveRequest: [SINGULARITY_REQUEST, PARENT],
  GetRequest: ['1 string requestId, 2 ReadConsistency consistency', PARENT],
  ListRequests: ['1 ReadConsistency consistency', '1 repeated RequestParent requests'],
  ScaleRequest: ['1 string requestId, 2 int32 instances, 3 string message', PARENT],
  PauseRequest: ['1 string requestId', PARENT],
  UnpauseRequest: ['1 string requestId', PARENT],
  DeleteRequest: ['1 string requestId', PARENT],
  SubmitDeploy: [DEPLOY, PARENT],
  ListActiveTasks: ['1 string agentId, 2 ReadConsistency consistency', '1 repeated TaskInfo tasks'],
  GetTask: ['1 string taskId, 2 ReadConsistency consistency', TASK],
  KillTask: ['1 string taskId', '1 string taskId, 2 string state'],
  ListAgents: ['1 ReadConsistency consistency', '1 repeated AgentInfo agents'],
  SetAgentState: ['1 string agentId, 2 string action', AGENT],
  // Changed on purpose (docs/api.md, "What changed on the wire"): events, not bare tasks.
  WatchTasks: ['1 string requestId', 'stream 1 string kind, 2 TaskInfo task'],
  WatchRequests: [
    '1 string requestId',
    'stream 1 string kind, 2 string requestId, 3 RequestParent request',
  ],
  CancelDeploy: ['1 string requestId, 2 string deployId, 3 string message', INTENT_ANSWER],
  AdvanceDeploy: [
    '1 string requestId, 2 string deployId, 3 int32 targetActiveInstances',
    INTENT_ANSWER,
  ],
  ListDeployHistory: ['1 string requestId', '1 repeated DeployInfo deploys'],
  GetDeployHistory: ['1 string requestId, 2 string deployId', DEPLOY_INFO],
  BounceRequest: ['1 string requestId, 2 string message', `${INTENT_ANSWER}, 4 uint64 at`],
  ListScheduledTasks: ['1 string requestId', '1 repeated ScheduledTaskInfo tasks'],
};

function fields(root: protobuf.Root, typeName: string): string {
  return root
    .lookupType(typeName)
    .fieldsArray.map((f) => {
      const type =
        f instanceof protobuf.MapField
          ? `map<${f.keyType},${f.type}>`
          : f.type.replace(/^.*\./, '');
      return `${f.id} ${f.repeated ? 'repeated ' : ''}${type} ${f.name}`;
    })
    .join(', ');
}

describe('scheduler.proto wire contract', () => {
  const root = protobuf.loadSync(path.join(protoDir(), 'thales', 'v1', 'scheduler.proto'));
  const service = root.lookupService('thales.v1.Scheduler');

  it('has exactly the listed methods', () => {
    expect(service.methodsArray.map((m) => m.name).sort()).toEqual(Object.keys(WIRE).sort());
  });

  for (const [rpc, [request, response]] of Object.entries(WIRE)) {
    it(`${rpc} keeps its field numbers and types`, () => {
      const method = service.methods[rpc];
      expect(method).toBeDefined();
      if (!method) return;
      expect(fields(root, method.requestType)).toBe(request);
      const stream = method.responseStream ? 'stream ' : '';
      expect(`${stream}${fields(root, method.responseType)}`).toBe(response);
    });
  }
});
