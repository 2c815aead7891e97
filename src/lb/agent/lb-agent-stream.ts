import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadProto } from '../../runtime/index.js';
import type { ProtoGrpcType } from '../../gen/lb.js';
import type { LbAgentMessage } from '../../gen/thales/v1/LbAgentMessage.js';
import type { LbAck } from '../../gen/thales/v1/LbAck.js';
import type { LbGroupUpdate__Output } from '../../gen/thales/v1/LbGroupUpdate.js';
import type { LoadBalancerClient } from '../../gen/thales/v1/LoadBalancer.js';

/** Trailing metadata key naming the leader (mirrors the server's constant). */
const LEADER_KEY = 'thales-leader-grpc';

/** Options of {@link LbAgentStream}. */
export interface LbAgentStreamOptions {
  group: string;
  agentId: string;
  /** Where to look for the leader, in order: fixed addresses and/or a discovery function. */
  addresses: () => Promise<string[]>;
  logger: Logger;
  /** Each update, with the function that answers it on the stream it came from. */
  onUpdate(update: LbGroupUpdate__Output, answer: (ack: LbAck) => void): void;
  /** What the agent has now, reported when it subscribes. */
  knownVersions(): Record<string, string>;
  onConnectedChange?(connected: boolean): void;
}

/**
 * The lb-agent side of WatchGroup: connects, subscribes with what it has, hands updates to
 * the agent, and reconnects for ever with back-off — straight to the leader when a follower
 * names it in its refusal. Every reconnection gets the full state again (resync).
 */
export class LbAgentStream {
  private stopped = false;
  private call: grpc.ClientDuplexStream<LbAgentMessage, LbGroupUpdate__Output> | undefined;
  private client: LoadBalancerClient | undefined;
  private hint: string | undefined;
  private next = 0;
  private readonly proto = loadProto<ProtoGrpcType>('lb.proto');

  constructor(private readonly o: LbAgentStreamOptions) {}

  /** Starts connecting (and keeps reconnecting until {@link LbAgentStream.stop}). */
  start(): void {
    void this.loop();
  }

  /** Ends the stream. */
  stop(): void {
    this.stopped = true;
    this.call?.cancel();
    this.client?.close();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.stopped) {
      const started = Date.now();
      const address = await this.pickAddress().catch(() => undefined);
      if (address) await this.runOnce(address);
      if (this.stopped) return;
      backoff = Date.now() - started > 5_000 ? 100 : Math.min(backoff * 2, 1_000);
      await new Promise((r) => setTimeout(r, this.hint ? 50 : backoff));
    }
  }

  private async pickAddress(): Promise<string | undefined> {
    if (this.hint) {
      const h = this.hint;
      this.hint = undefined;
      return h;
    }
    const all = await this.o.addresses();
    if (all.length === 0) return undefined;
    return all[this.next++ % all.length];
  }

  /** One connection; resolves when it ends. */
  private runOnce(address: string): Promise<void> {
    const log = this.o.logger.child({ scheduler: address });
    this.client?.close();
    const client = new this.proto.thales.v1.LoadBalancer(
      address,
      grpc.credentials.createInsecure(),
      {
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.keepalive_time_ms': 10_000,
      },
    );
    this.client = client;
    const call = client.WatchGroup();
    this.call = call;
    return new Promise((resolve) => {
      let done = false;
      let gotData = false;
      const finish = (why: string, err?: grpc.ServiceError): void => {
        if (done) return;
        done = true;
        const leader = err?.metadata?.get(LEADER_KEY)[0];
        if (typeof leader === 'string' && leader !== address) this.hint = leader;
        if (gotData) this.o.onConnectedChange?.(false);
        log.info({ why, leader: this.hint }, 'lb stream ended');
        call.cancel();
        resolve();
      };
      call.on('data', (update: LbGroupUpdate__Output) => {
        if (!gotData) {
          gotData = true;
          this.o.onConnectedChange?.(true);
          log.info('lb stream connected');
        }
        this.o.onUpdate(update, (ack) => {
          if (!done && this.call === call) call.write({ ack });
        });
      });
      call.on('error', (err: grpc.ServiceError) => finish(err.details || err.message, err));
      call.on('end', () => finish('server ended the stream'));
      call.write({
        subscribe: {
          group: this.o.group,
          agentId: this.o.agentId,
          knownVersions: this.o.knownVersions(),
        },
      });
    });
  }
}
