/**
 * The `AgentService` on every replica's gRPC server. The leader attaches registering agents to
 * the task scheduler; a follower (or a paused leader) answers NotLeader with the leader's
 * gRPC address from the latch, and closes.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadProto, whenStreamCloses } from '../runtime/index.js';
import type { Coordinator } from '../coordination/index.js';
import { readLeaderGrpcAddress } from '../leader/index.js';
import type { ProtoGrpcType } from '../gen/agent.js';
import type { AgentMessage__Output } from '../gen/thales/v1/AgentMessage.js';
import type { AgentServiceHandlers } from '../gen/thales/v1/AgentService.js';
import { agentIdSchema } from '../state/index.js';
import type { AgentCall, AgentSession } from './agent-session.js';
import type { TaskScheduler } from './task-scheduler.js';

/** Adds `AgentService` to `server`. */
export function addAgentService(
  server: grpc.Server,
  deps: { scheduler: TaskScheduler; zk: Coordinator; logger: Logger },
): void {
  const proto = loadProto<ProtoGrpcType>('agent.proto');
  const handlers: AgentServiceHandlers = {
    Connect: (call) => serveAgent(call, deps),
  };
  server.addService(proto.thales.v1.AgentService.service, handlers);
}

function serveAgent(
  call: AgentCall,
  deps: { scheduler: TaskScheduler; zk: Coordinator; logger: Logger },
): void {
  let session: AgentSession | null = null;
  let attaching = false;
  const backlog: AgentMessage__Output[] = [];
  const end = (): void => {
    if (session) deps.scheduler.detachAgent(session);
  };
  call.on('data', (msg: AgentMessage__Output) => {
    if (session) return deps.scheduler.onAgentMessage(session, msg);
    if (attaching) return void backlog.push(msg);
    if (!msg.register) {
      call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'register first' });
      return;
    }
    if (!agentIdSchema.safeParse(msg.register.agentId).success) {
      call.emit('error', {
        code: grpc.status.INVALID_ARGUMENT,
        details: 'INVALID_ARGUMENT: register.agentId: must be letters, digits, _, . or -',
      });
      return;
    }
    if (deps.scheduler.acceptingTerm === undefined) return void sendNotLeader(call, deps);
    attaching = true;
    deps.scheduler.attachAgent(call, msg).then(
      (s) => {
        attaching = false;
        if (!s) return void sendNotLeader(call, deps);
        session = s;
        for (const m of backlog.splice(0)) deps.scheduler.onAgentMessage(s, m);
      },
      (err: unknown) => {
        deps.logger.warn({ err }, 'agent attach failed');
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: String(err) });
      },
    );
  });
  whenStreamCloses(call, end);
}

async function sendNotLeader(
  call: AgentCall,
  deps: { zk: Coordinator; logger: Logger },
): Promise<void> {
  const leader = await readLeaderGrpcAddress(deps.zk).catch(() => null);
  try {
    call.write({ term: 0, notLeader: { leaderGrpcAddress: leader ?? '' } });
    call.end();
  } catch (err) {
    deps.logger.debug({ err }, 'agent hung up before NotLeader');
  }
}
