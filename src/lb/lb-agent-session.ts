import { randomUUID } from 'node:crypto';
import type { LbAck__Output } from '../gen/thales/v1/LbAck.js';
import type { LbGroupUpdate } from '../gen/thales/v1/LbGroupUpdate.js';

/**
 * What an agent session writes to: the WatchGroup stream (`lb-grpc-service.ts`); an interface
 * so the session's nonce bookkeeping does not depend on gRPC.
 */
export interface LbAgentTransport {
  send(update: LbGroupUpdate): void;
  /** Ends the stream with an error the agent sees (e.g. leadership lost). */
  close(reason: string): void;
}

/** An ACK/NACK for a nonce, or a disconnection. */
export type LbAgentAnswer = LbAck__Output;

/**
 * One lb-agent connected to the leader over WatchGroup: sends versioned updates with a nonce
 * and resolves each with the agent's ACK or NACK for that nonce (xDS style). A closed stream
 * answers every outstanding nonce with a NACK, so no round waits on a dead agent.
 */
export class LbAgentSession {
  /** True once the agent has applied the full state of its group and is registered. */
  joined = false;
  private closed = false;
  private readonly pending = new Map<string, (ack: LbAgentAnswer) => void>();

  constructor(
    readonly agentId: string,
    readonly group: string,
    private readonly transport: LbAgentTransport,
  ) {}

  /** Whether the stream is still open. */
  get open(): boolean {
    return !this.closed;
  }

  /** Sends `update` with a fresh nonce; resolves with the answer for that nonce. */
  push(update: Omit<LbGroupUpdate, 'nonce'>): { nonce: string; answer: Promise<LbAgentAnswer> } {
    const nonce = randomUUID();
    if (this.closed) {
      return { nonce, answer: Promise.resolve(nack(nonce, 'agent disconnected')) };
    }
    const answer = new Promise<LbAgentAnswer>((resolve) => this.pending.set(nonce, resolve));
    this.transport.send({ ...update, nonce });
    return { nonce, answer };
  }

  /** Delivers an ACK/NACK from the agent. */
  onAck(ack: LbAck__Output): void {
    const resolve = this.pending.get(ack.nonce);
    if (!resolve) return;
    this.pending.delete(ack.nonce);
    resolve(ack);
  }

  /** The stream ended (or is being ended): NACK everything outstanding. */
  onClosed(reason = 'agent disconnected'): void {
    if (this.closed) return;
    this.closed = true;
    for (const [nonce, resolve] of this.pending) resolve(nack(nonce, reason));
    this.pending.clear();
  }

  /** Ends the stream from the server side. */
  close(reason: string): void {
    if (this.closed) return;
    this.onClosed(reason);
    this.transport.close(reason);
  }
}

function nack(nonce: string, error: string): LbAgentAnswer {
  return { nonce, ok: false, error, results: [] };
}
