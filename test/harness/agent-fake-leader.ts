import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../../src/runtime/index.js';
import type { ProtoGrpcType } from '../../src/gen/agent.js';
import type { AgentMessage__Output } from '../../src/gen/thales/v1/AgentMessage.js';
import type { LeaderMessage } from '../../src/gen/thales/v1/LeaderMessage.js';
import type { Register__Output } from '../../src/gen/thales/v1/Register.js';
import type { StatusUpdate__Output } from '../../src/gen/thales/v1/StatusUpdate.js';
import type { TaskSpec } from '../../src/gen/thales/v1/TaskSpec.js';
import { waitFor } from '../../src/dev/wait-for.js';

type Stream = grpc.ServerDuplexStream<AgentMessage__Output, LeaderMessage>;

/** Options of {@link FakeLeaderForAgentTests}. */
export interface FakeLeaderOptions {
  term: number;
  /** Answer every Register with NotLeader naming this address (a follower's behaviour). */
  notLeaderAddress?: string;
  /** Ack every status update as soon as it arrives (default true). */
  autoAck?: boolean;
}

/**
 * TEST DOUBLE of the leader's AgentService: a real grpc-js server speaking the real
 * agent.proto, so the agent under test runs its real protocol code against a peer whose
 * behaviour the test controls (term, NotLeader, withheld acks). It is not the leader.
 */
export class FakeLeaderForAgentTests {
  readonly registers: Register__Output[] = [];
  readonly statuses: StatusUpdate__Output[] = [];
  /** Heartbeats received on registered streams. */
  heartbeats = 0;
  /** Streams that ended (either side), to see a refusal close the stream. */
  endedStreams = 0;
  term: number;
  autoAck: boolean;
  private readonly server = new grpc.Server();
  private current: Stream | undefined;
  private port = 0;

  constructor(private readonly o: FakeLeaderOptions) {
    this.term = o.term;
    this.autoAck = o.autoAck ?? true;
    const proto = loadProto<ProtoGrpcType>('agent.proto');
    this.server.addService(proto.thales.v1.AgentService.service, {
      Connect: (call: Stream) => this.onConnect(call),
    });
  }

  /** host:port to give the agent. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Binds to a free loopback port. */
  async start(): Promise<this> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return this;
  }

  /** Stops at once, cutting every stream. */
  stop(): void {
    this.current = undefined;
    this.server.forceShutdown();
  }

  /** Sends a message on the latest registered stream, stamped with `term` (default: ours). */
  send(message: Omit<LeaderMessage, 'term'>, term = this.term): void {
    if (!this.current) throw new Error('no agent is connected to the fake leader');
    this.current.write({ term, ...message });
  }

  launch(task: TaskSpec, term?: number): void {
    this.send({ launch: { task } }, term);
  }

  kill(taskId: string, graceMs = 2_000, term?: number): void {
    this.send({ kill: { taskId, graceMs, reason: 'test kill' } }, term);
  }

  ack(updateIds: string[], term?: number): void {
    this.send({ ack: { updateIds } }, term);
  }

  /** Waits for a status update of `taskId` in `state`. */
  waitForStatus(taskId: string, state: string, timeoutMs = 20_000): Promise<StatusUpdate__Output> {
    return waitFor(
      `${taskId} ${state}`,
      () => this.statuses.find((s) => s.taskId === taskId && s.state === state),
      { timeoutMs },
    );
  }

  /**
   * Waits for the `n`-th Register (1-based) on a stream that was answered Registered. 60 s,
   * like the agent's /health wait: an agent (re)started beside the 50-executor chaos test once
   * took over 20 s to come up in CI.
   */
  waitForRegister(n: number, timeoutMs = 60_000): Promise<Register__Output> {
    return waitFor(`register #${n}`, () => this.current && this.registers[n - 1], { timeoutMs });
  }

  /** The states reported for `taskId`, in arrival order, without duplicates. */
  statesOf(taskId: string): string[] {
    const seen = new Map<string, string>();
    for (const s of this.statuses) if (s.taskId === taskId) seen.set(s.updateId, s.state);
    return [...seen.values()];
  }

  private onConnect(call: Stream): void {
    let registered = false;
    call.on('data', (m: AgentMessage__Output) => {
      if (m.msg === 'register' && m.register) {
        if (this.o.notLeaderAddress) {
          call.write({
            term: this.term,
            notLeader: { leaderGrpcAddress: this.o.notLeaderAddress },
          });
          call.end();
          return;
        }
        registered = true;
        this.current = call;
        this.registers.push(m.register);
        call.write({
          term: this.term,
          registered: { agentId: m.register.agentId, state: 'ACTIVE' },
        });
      } else if (m.msg === 'heartbeat' && registered) {
        this.heartbeats++;
      } else if (m.msg === 'status' && m.status && registered) {
        this.statuses.push(m.status);
        if (this.autoAck) call.write({ term: this.term, ack: { updateIds: [m.status.updateId] } });
      }
    });
    const ended = (): void => {
      this.endedStreams++;
      if (this.current === call) this.current = undefined;
    };
    call.on('end', () => {
      ended();
      call.end();
    });
    call.on('error', ended);
    call.on('cancelled', ended);
  }
}
