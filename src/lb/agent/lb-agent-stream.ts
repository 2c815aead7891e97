import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { type LeaderDiscovery, ReconnectingStream, loadProto } from '../../runtime/index.js';
import type { ProtoGrpcType } from '../../gen/lb.js';
import type { LbAgentMessage } from '../../gen/thales/v1/LbAgentMessage.js';
import type { LbAck } from '../../gen/thales/v1/LbAck.js';
import type { LbGroupUpdate__Output } from '../../gen/thales/v1/LbGroupUpdate.js';

/**
 * Trailing metadata key naming the leader. It mirrors the server's `LEADER_METADATA_KEY`
 * rather than importing it, so the lb-agent does not load the leader-side service.
 */
const LEADER_KEY = 'thales-leader-grpc';

/** Options of {@link makeLbAgentStream}. */
export interface LbAgentStreamOptions {
  group: string;
  agentId: string;
  /** Where the leader is: `--scheduler` addresses and/or ZooKeeper's `/leader` latch. */
  discovery: LeaderDiscovery;
  logger: Logger;
  /** Each update, with the function that answers it on the stream it came from. */
  onUpdate(update: LbGroupUpdate__Output, answer: (ack: LbAck) => void): void;
  /** What the agent has now, reported when it subscribes. */
  knownVersions(): Record<string, string>;
  onConnectedChange?(connected: boolean): void;
}

/** The lb-agent's side of WatchGroup. */
export type LbAgentStream = ReconnectingStream<LbAgentMessage, LbGroupUpdate__Output>;

/**
 * The lb-agent side of WatchGroup on the runtime's reconnecting stream: subscribes with what
 * it has, hands updates to the agent with a function that ACKs on the same stream, and
 * follows a follower's refusal straight to the leader it names. Every new stream starts with
 * the full state again (resync).
 */
export function makeLbAgentStream(o: LbAgentStreamOptions): LbAgentStream {
  const proto = loadProto<ProtoGrpcType>('lb.proto');
  return new ReconnectingStream<LbAgentMessage, LbGroupUpdate__Output>({
    discovery: o.discovery,
    logger: o.logger,
    ...(o.onConnectedChange ? { onConnectedChange: o.onConnectedChange } : {}),
    // The full state of a group of 1,000 services is about 1 MB.
    channelOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    protocol: {
      name: 'lb stream',
      open: (address, options) => {
        const client = new proto.thales.v1.LoadBalancer(
          address,
          grpc.credentials.createInsecure(),
          options,
        );
        return { client, call: client.WatchGroup() };
      },
      hello: () => ({
        subscribe: { group: o.group, agentId: o.agentId, knownVersions: o.knownVersions() },
      }),
      redirectFromError: (err) => {
        const leader = err.metadata?.get(LEADER_KEY)[0];
        return typeof leader === 'string' ? leader : undefined;
      },
      establishes: () => true,
      onMessage: (update, stream) => o.onUpdate(update, (ack) => void stream.write({ ack })),
    },
  });
}
