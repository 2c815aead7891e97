import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadProto } from '../runtime/index.js';
import type { ProtoGrpcType } from '../gen/agent.js';
import type { AgentMessage } from '../gen/thales/v1/AgentMessage.js';
import type { AgentServiceClient } from '../gen/thales/v1/AgentService.js';
import type { LeaderMessage__Output } from '../gen/thales/v1/LeaderMessage.js';
import type { Register } from '../gen/thales/v1/Register.js';
import type { StatusUpdate } from '../gen/thales/v1/StatusUpdate.js';
import { nextBackoffMs } from './backoff.js';

/** Options of {@link LeaderStream}. */
export interface LeaderStreamOptions {
  /** Candidate scheduler gRPC addresses, leader first when known. */
  addresses: () => Promise<string[]>;
  logger: Logger;
  /** The Register message, built afresh for every connection. */
  register(): Register;
  /** Unacknowledged updates, oldest first, sent once the leader has answered Registered. */
  pending(): StatusUpdate[];
  /**
   * A leader message (not NotLeader): returns false to refuse it (stale term), which ends the
   * stream; the agent then reconnects with back-off.
   */
  onMessage(message: LeaderMessage__Output): boolean;
  onReconnect?(): void;
  onConnectedChange?(connected: boolean): void;
  heartbeatMs?: number;
}

/**
 * The agent's side of AgentService.Connect: registers, resends the outbox, heartbeats, and
 * reconnects for ever with exponential back-off and jitter — straight to the leader a
 * follower names in NotLeader.
 */
export class LeaderStream {
  private stopped = false;
  private call: grpc.ClientDuplexStream<AgentMessage, LeaderMessage__Output> | undefined;
  private client: AgentServiceClient | undefined;
  private registered = false;
  private hint: string | undefined;
  private next = 0;
  private readonly proto = loadProto<ProtoGrpcType>('agent.proto');

  constructor(private readonly o: LeaderStreamOptions) {}

  /** Whether a leader has answered Registered on the current stream. */
  get connected(): boolean {
    return this.registered;
  }

  /** Starts connecting (and reconnecting until {@link LeaderStream.stop}). */
  start(): void {
    void this.loop();
  }

  /** Ends the stream for good. */
  stop(): void {
    this.stopped = true;
    this.call?.cancel();
    this.client?.close();
  }

  /** Sends an update now if registered; otherwise it waits in the outbox for the next one. */
  send(update: StatusUpdate): boolean {
    if (!this.registered || !this.call) return false;
    this.call.write({ status: update });
    return true;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const address = await this.pickAddress().catch(() => undefined);
      const wasRegistered = address ? await this.runOnce(address) : false;
      if (this.stopped) return;
      this.o.onReconnect?.();
      attempt = wasRegistered ? 0 : attempt + 1;
      const delay = this.hint ? 0 : nextBackoffMs(attempt, { baseMs: 100, capMs: 5_000 });
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async pickAddress(): Promise<string | undefined> {
    if (this.hint) {
      const h = this.hint;
      this.hint = undefined;
      return h;
    }
    const all = await this.o.addresses();
    return all.length === 0 ? undefined : all[this.next++ % all.length];
  }

  /** One connection; resolves (with whether it got registered) when it ends. */
  private runOnce(address: string): Promise<boolean> {
    const log = this.o.logger.child({ scheduler: address });
    this.client?.close();
    const client = new this.proto.thales.v1.AgentService(
      address,
      grpc.credentials.createInsecure(),
      {
        'grpc.keepalive_time_ms': 10_000,
      },
    );
    this.client = client;
    const call = client.Connect();
    this.call = call;
    return new Promise((resolve) => {
      let done = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let gotRegistered = false;
      const finish = (why: string): void => {
        if (done) return;
        done = true;
        clearInterval(heartbeat);
        this.registered = false;
        if (gotRegistered) this.o.onConnectedChange?.(false);
        log.info({ why, next: this.hint }, 'leader stream ended');
        call.cancel();
        resolve(gotRegistered);
      };
      call.on('data', (m: LeaderMessage__Output) => {
        if (done) return;
        if (m.msg === 'notLeader') {
          const leader = m.notLeader?.leaderGrpcAddress;
          if (leader && leader !== address) this.hint = leader;
          return finish(`not the leader (leader: ${leader || 'unknown'})`);
        }
        if (!this.o.onMessage(m)) return finish(`refused a message of stale term ${m.term}`);
        if (m.msg === 'registered' && !gotRegistered) {
          gotRegistered = true;
          this.registered = true;
          log.info({ term: m.term }, 'registered with the leader');
          this.o.onConnectedChange?.(true);
          for (const update of this.o.pending()) call.write({ status: update });
          heartbeat = setInterval(
            () => call.write({ heartbeat: { atMs: Date.now() } }),
            this.o.heartbeatMs ?? 1_000,
          );
        }
      });
      call.on('error', (err: grpc.ServiceError) => finish(err.details || err.message));
      call.on('end', () => finish('leader ended the stream'));
      call.write({ register: this.o.register() });
    });
  }
}
