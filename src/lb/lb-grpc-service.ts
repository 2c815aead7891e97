import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { detach, loadProto, toGrpcError, whenStreamCloses } from '../runtime/index.js';
import type { Coordinator } from '../coordination/index.js';
import type { ProtoGrpcType } from '../gen/lb.js';
import type { LbAgentMessage__Output } from '../gen/thales/v1/LbAgentMessage.js';
import type { LbGroupUpdate } from '../gen/thales/v1/LbGroupUpdate.js';
import type { LoadBalancerHandlers } from '../gen/thales/v1/LoadBalancer.js';
import type { LbApi } from './lb-api.js';
import { readLeaderGrpcAddress } from '../leader/index.js';
import { LbAgentSession } from './lb-agent-session.js';
import type { LbManager } from './lb-manager.js';
import { fromProtoRequest, toProtoRequestState, toProtoServiceState } from './lb-proto-mapping.js';
import { parseLbId } from './lb-validation.js';

/** Trailing metadata key naming the leader's gRPC address in a follower's refusal. */
export const LEADER_METADATA_KEY = 'thales-leader-grpc';

/** Adds the `LoadBalancer` gRPC service to `server`. */
export function addLbGrpcService(
  server: grpc.Server,
  deps: { api: LbApi; manager: LbManager; zk: Coordinator; logger: Logger },
): void {
  const proto = loadProto<ProtoGrpcType>('lb.proto');
  const { api } = deps;
  const handlers: LoadBalancerHandlers = {
    SubmitRequest: unary(async (call) =>
      toProtoRequestState(await api.submit(fromProtoRequest(call.request))),
    ),
    GetRequest: unary(async (call) =>
      toProtoRequestState(await api.getRequest(call.request.requestId)),
    ),
    CancelRequest: unary(async (call) =>
      toProtoRequestState(await api.cancel(call.request.requestId)),
    ),
    GetService: unary(async (call) =>
      toProtoServiceState(await api.getService(call.request.serviceId)),
    ),
    ListServices: unary(async () => ({
      services: (await api.listServices()).map(toProtoServiceState),
    })),
    GetGroup: unary(async (call) => await api.getGroup(call.request.group)),
    // A stream whose set-up failed ends with that error: the lb-agent reconnects.
    WatchGroup: (call) =>
      detach(serveWatchGroup(call, deps), deps.logger, 'lb-agent stream', (err) =>
        call.emit('error', toGrpcError(err)),
      ),
  };
  server.addService(proto.thales.v1.LoadBalancer.service, handlers);
}

type UnaryCall<Req> = grpc.ServerUnaryCall<Req, unknown>;

/** Wraps an async handler: errors become the gRPC status of their code, message naming the field. */
function unary<Req, Res>(
  run: (call: UnaryCall<Req>) => Promise<Res>,
): (call: UnaryCall<Req>, cb: grpc.sendUnaryData<Res>) => void {
  return (call, cb) => {
    run(call).then(
      (res) => cb(null, res),
      (err: unknown) => {
        cb(toGrpcError(err));
      },
    );
  };
}

type WatchCall = grpc.ServerDuplexStream<LbAgentMessage__Output, LbGroupUpdate>;

/**
 * WatchGroup: only the leader serves it. A follower ends the call with UNAVAILABLE, the
 * leader's address in the message and in `thales-leader-grpc` trailing metadata.
 */
async function serveWatchGroup(
  call: WatchCall,
  deps: { manager: LbManager; zk: Coordinator; logger: Logger },
): Promise<void> {
  if (!deps.manager.isLeading) {
    const leader = await readLeaderGrpcAddress(deps.zk).catch(() => null);
    const metadata = new grpc.Metadata();
    if (leader) metadata.set(LEADER_METADATA_KEY, leader);
    call.emit('error', {
      code: grpc.status.UNAVAILABLE,
      details: `NOT_LEADER: not the leader; leader is at ${leader ?? 'unknown'}`,
      metadata,
    });
    return;
  }
  let session: LbAgentSession | undefined;
  const end = (): void => {
    if (session) deps.manager.agents.leave(session);
  };
  call.on('data', (msg: LbAgentMessage__Output) => {
    if (msg.subscribe && !session) {
      const { group, agentId } = msg.subscribe;
      try {
        parseLbId(group, 'group');
        parseLbId(agentId, 'agentId');
      } catch (err) {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: String(err) });
        return;
      }
      const known = Object.keys(msg.subscribe.knownVersions).length;
      deps.logger.info({ agentId, group, knownServices: known }, 'lb-agent subscribed');
      session = new LbAgentSession(agentId, group, {
        send: (u) => call.write(u),
        close: (reason) => call.emit('error', { code: grpc.status.UNAVAILABLE, details: reason }),
      });
      deps.manager.agents.join(session).catch((err: unknown) => {
        deps.logger.warn({ err, agentId }, 'lb-agent join failed');
        session?.close(String(err));
      });
    } else if (msg.ack && session) session.onAck(msg.ack);
  });
  whenStreamCloses(call, end);
}
