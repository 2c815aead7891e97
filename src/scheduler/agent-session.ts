import type * as grpc from '@grpc/grpc-js';
import type { AgentMessage__Output } from '../gen/thales/v1/AgentMessage.js';
import type { LeaderMessage } from '../gen/thales/v1/LeaderMessage.js';
import type { Register__Output } from '../gen/thales/v1/Register.js';

/** The bidirectional stream of one agent to this leader. */
export type AgentCall = grpc.ServerDuplexStream<AgentMessage__Output, LeaderMessage>;

/** A leader message without its term (the session stamps it). */
export type LeaderCommand = Omit<LeaderMessage, 'term'>;

/**
 * One registered agent's stream: every message it sends carries this leadership's term.
 * Closing ends the stream; the agent reconnects (to whoever leads).
 */
export class AgentSession {
  private closed = false;
  lastHeartbeatAt = Date.now();
  /**
   * What the agent runs as it told this stream: taskId → last state, from its registration
   * and then every status update it sends (gRPC keeps them in order), so reconciliation
   * knows its running set between registrations without asking.
   */
  readonly reported = new Map<string, string>();
  /** Kills of tasks not active on this agent, taskId → when last sent. */
  readonly orphanKillsAt = new Map<string, number>();
  /** Active tasks of this agent it has not reported, taskId → since when. */
  readonly unreportedSince = new Map<string, number>();
  /**
   * Set by a reconcile that found the report and the agent's active tasks in agreement, with
   * nothing waiting on the clock (agent-reconcile-plan.ts `agentSettled`): later cycles skip
   * the agent until it reports something or its active tasks change.
   */
  settled = false;

  constructor(
    readonly agentId: string,
    readonly registration: Register__Output,
    private readonly call: AgentCall,
    readonly term: number,
  ) {
    for (const t of registration.tasks) this.reported.set(t.taskId, t.state);
  }

  /** Notes a task state the agent reported on this stream. */
  noteReported(taskId: string, state: string): void {
    this.reported.set(taskId, state);
    this.unreportedSince.delete(taskId);
    this.settled = false;
  }

  /** Whether the stream is still open. */
  get open(): boolean {
    return !this.closed;
  }

  /** Sends a command stamped with the term; false if the stream is gone. */
  send(msg: LeaderCommand): boolean {
    if (this.closed) return false;
    try {
      this.call.write({ ...msg, term: this.term });
      return true;
    } catch {
      this.closed = true;
      return false;
    }
  }

  /** Ends the stream (leadership revoked, agent replaced by a newer stream, or silent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.call.end();
    } catch {
      /* already gone */
    }
  }

  /** Marks the stream gone (the agent hung up). */
  markClosed(): void {
    this.closed = true;
  }
}
