import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type LeaderDiscovery, ReconnectingStream, loadProto } from '../runtime/index.js';
import type { ProtoGrpcType } from '../gen/agent.js';
import type { AgentMessage } from '../gen/thales/v1/AgentMessage.js';
import type { LeaderMessage__Output } from '../gen/thales/v1/LeaderMessage.js';
import type { Register } from '../gen/thales/v1/Register.js';
import type { StatusUpdate } from '../gen/thales/v1/StatusUpdate.js';

/** Options of {@link makeLeaderStream}. */
export interface LeaderStreamOptions {
  discovery: LeaderDiscovery;
  logger: Logger;
  /** The Register message, built afresh for every connection. */
  register(): Register;
  /** Unacknowledged updates, oldest first, sent once the leader has answered Registered. */
  pending(): StatusUpdate[];
  /** Term fencing (see `decideTerm`): false refuses the message and ends the stream. */
  admitTerm(term: number, message: LeaderMessage__Output): boolean;
  /** A leader message that passed the fence (never NotLeader: that one is followed). */
  onMessage(message: LeaderMessage__Output): void;
  onReconnect?(): void;
  onConnectedChange?(connected: boolean): void;
  heartbeatMs?: number;
}

/** The agent's side of AgentService.Connect. */
export type LeaderStream = ReconnectingStream<AgentMessage, LeaderMessage__Output>;

/**
 * The agent's side of AgentService.Connect on the runtime's reconnecting stream: registers,
 * resends the outbox once Registered, heartbeats, and follows NotLeader straight to the
 * leader it names.
 */
export function makeLeaderStream(o: LeaderStreamOptions): LeaderStream {
  const proto = loadProto<ProtoGrpcType>('agent.proto');
  return new ReconnectingStream<AgentMessage, LeaderMessage__Output>({
    discovery: o.discovery,
    logger: o.logger,
    ...(o.onReconnect ? { onReconnect: o.onReconnect } : {}),
    ...(o.onConnectedChange ? { onConnectedChange: o.onConnectedChange } : {}),
    protocol: {
      name: 'leader stream',
      open: (address, options) => {
        const client = new proto.thales.v1.AgentService(
          address,
          grpc.credentials.createInsecure(),
          options,
        );
        return { client, call: client.Connect() };
      },
      hello: () => ({ register: o.register() }),
      redirectOf: (m) =>
        m.msg === 'notLeader' ? (m.notLeader?.leaderGrpcAddress ?? '') : undefined,
      fence: { termOf: (m) => m.term, admit: (term, m) => o.admitTerm(term, m) },
      establishes: (m) => m.msg === 'registered',
      onEstablished: (stream) => {
        for (const update of o.pending()) stream.write({ status: update });
      },
      onMessage: (m) => o.onMessage(m),
      heartbeat: {
        everyMs: o.heartbeatMs ?? 1_000,
        message: () => ({ heartbeat: { atMs: Date.now() } }),
      },
    },
  });
}
