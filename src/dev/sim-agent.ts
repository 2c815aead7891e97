/**
 * A simulated agent: a real gRPC client of `AgentService` that registers, heartbeats, follows
 * NotLeader, refuses older terms, answers Launch and Kill with status updates (kept until
 * acknowledged, re-sent after every reconnect) — and starts no process. Many share a process
 * (one channel per scheduler address). Used by the launch benchmark and the task tests.
 */
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../runtime/index.js';
import type { ProtoGrpcType } from '../gen/agent.js';
import type { AgentMessage } from '../gen/thales/v1/AgentMessage.js';
import type { AgentServiceClient } from '../gen/thales/v1/AgentService.js';
import type { LeaderMessage__Output } from '../gen/thales/v1/LeaderMessage.js';
import type { StatusUpdate } from '../gen/thales/v1/StatusUpdate.js';
import type { TaskSpec__Output } from '../gen/thales/v1/TaskSpec.js';

/** How a simulated agent presents itself. */
export interface SimAgentOptions {
  agentId: string;
  /** gRPC addresses of scheduler replicas (any of them; NotLeader is followed). */
  schedulers: string[];
  cpus?: number;
  memoryMb?: number;
  diskMb?: number;
  ports?: { begin: number; end: number }[];
  rack?: string;
  httpAddress?: string;
  /** States reported after a Launch; default STARTING then RUNNING. */
  onLaunch?: string[];
  /** The health reported for a running task with a health spec; default HEALTHY, NONE: none. */
  health?: 'HEALTHY' | 'UNHEALTHY' | 'NONE';
  heartbeatMs?: number;
  /**
   * How long a stream may go unregistered before the agent tries the next replica (default
   * 3 s: a paused replica accepts TCP but never answers). A benchmark whose leader takes
   * longer to register 1,000 agents at once sets more, or the agents re-register in a loop.
   */
  registerTimeoutMs?: number;
  /**
   * gRPC keepalive interval and timeout (default 1 s: a SIGSTOPped leader is found in about
   * 2 s, so failover tests move on fast). A real agent uses 10 s (LEADER_KEEPALIVE); a busy
   * leader whose event loop stalls a second would drop every 1 s agent at once.
   */
  keepaliveMs?: number;
  /** Called on every Launch received (benchmarks time arrivals without polling). */
  onLaunched?: (taskId: string) => void;
}

/** A task as the simulated agent runs it. */
export interface SimTask {
  spec: TaskSpec__Output;
  state: string;
}

const clients = new Map<string, AgentServiceClient>();

/** Connections per scheduler address that simulated agents spread over. */
const CHANNELS_PER_ADDRESS = 8;
let spread = 0;

function clientFor(address: string, keepaliveMs: number): AgentServiceClient {
  const key = `${address}#${spread++ % CHANNELS_PER_ADDRESS}#${keepaliveMs}`;
  let c = clients.get(key);
  if (!c) {
    const proto = loadProto<ProtoGrpcType>('agent.proto');
    c = new proto.thales.v1.AgentService(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.keepalive_time_ms': keepaliveMs,
      'grpc.keepalive_timeout_ms': keepaliveMs,
      // A connection of its own (not the shared subchannel pool).
      'grpc.use_local_subchannel_pool': 1,
    }) as unknown as AgentServiceClient;
    clients.set(key, c);
  }
  return c;
}

/** Closes the shared channels (end of a bench or test file). */
export function closeSimAgentChannels(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

/** One simulated agent. */
export class SimAgent {
  readonly tasks = new Map<string, SimTask>();
  /** Every Launch received, in order (a task id appears again on an idempotent re-launch). */
  readonly launches: TaskSpec__Output[] = [];
  /** The term of each entry of {@link launches}. */
  readonly launchTerms: number[] = [];
  readonly kills: string[] = [];
  highestTerm = 0;
  refusedTerms = 0;
  registeredTerm = 0;
  private readonly outbox = new Map<string, StatusUpdate>();
  private call: grpc.ClientDuplexStream<AgentMessage, LeaderMessage__Output> | undefined;
  private target: string;
  private next = 0;
  private counter = 0;
  private running = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private listeners = new Set<() => void>();

  constructor(readonly o: SimAgentOptions) {
    this.target = o.schedulers[0] ?? '';
  }

  /** Whether a leader has answered Registered on the current stream. */
  get registered(): boolean {
    return this.registeredTerm > 0 && !!this.call;
  }

  /** Status updates not yet acknowledged. */
  get unacked(): number {
    return this.outbox.size;
  }

  /** Connects (and keeps reconnecting until stopped). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
    this.heartbeat = setInterval(() => {
      this.write({ heartbeat: { atMs: Date.now() } });
    }, this.o.heartbeatMs ?? 1_000);
  }

  /** Drops the stream and stays away (like a SIGKILLed agent: its tasks keep their state). */
  stop(): void {
    this.running = false;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    this.registeredTerm = 0;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  /** The task ends on its own (exit, crash): reported until acknowledged. */
  finish(taskId: string, state: string, exitCode = 0): void {
    const t = this.tasks.get(taskId);
    if (!t) return;
    t.state = state;
    this.report(taskId, state, exitCode);
  }

  /** Calls `fn` after every message (tests wait on conditions). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Non-terminal tasks. */
  liveTasks(): SimTask[] {
    return [...this.tasks.values()].filter((t) => !isEnded(t.state));
  }

  private connect(): void {
    if (!this.running) return;
    const call = clientFor(this.target, this.o.keepaliveMs ?? 1_000).Connect();
    this.call = call;
    call.on('data', (m: LeaderMessage__Output) => this.onMessage(call, m));
    const down = (): void => {
      if (this.call !== call) return;
      this.call = undefined;
      this.registeredTerm = 0;
      this.reconnect(250);
    };
    call.on('error', down);
    call.on('end', down);
    call.on('close', down);
    // A paused replica accepts TCP but never answers: give up on it and try the next one.
    setTimeout(() => {
      if (this.call === call && this.registeredTerm === 0) this.reconnect(0);
    }, this.o.registerTimeoutMs ?? 3_000);
    this.write({
      register: {
        agentId: this.o.agentId,
        host: this.o.agentId,
        rack: this.o.rack ?? 'rack-1',
        attributes: {},
        resources: {
          cpus: this.o.cpus ?? 8,
          memoryMb: this.o.memoryMb ?? 16_384,
          diskMb: this.o.diskMb ?? 100_000,
        },
        portRanges: this.o.ports ?? [{ begin: 31_000, end: 31_999 }],
        tasks: [...this.tasks.values()].map((t) => ({ taskId: t.spec.taskId, state: t.state })),
        highestTerm: this.highestTerm,
        httpAddress: this.o.httpAddress ?? '',
        version: 'sim',
      },
    });
  }

  private reconnect(delayMs: number, target?: string): void {
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    if (!this.running) return;
    if (target) this.target = target;
    else {
      this.next = (this.next + 1) % this.o.schedulers.length;
      this.target = this.o.schedulers[this.next] ?? this.target;
    }
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), delayMs);
  }

  private onMessage(
    call: grpc.ClientDuplexStream<AgentMessage, LeaderMessage__Output>,
    m: LeaderMessage__Output,
  ): void {
    if (call !== this.call) return;
    if (m.msg === 'notLeader') {
      const leader = m.notLeader?.leaderGrpcAddress;
      this.reconnect(leader ? 50 : 300, leader || undefined);
      return;
    }
    if (m.term < this.highestTerm) {
      this.refusedTerms++;
      this.reconnect(100);
      return;
    }
    this.highestTerm = m.term;
    if (m.msg === 'registered') {
      this.registeredTerm = m.term;
      for (const u of this.outbox.values()) this.write({ status: u });
    } else if (m.msg === 'launch' && m.launch?.task) this.onLaunch(m.launch.task, m.term);
    else if (m.msg === 'kill' && m.kill) this.onKill(m.kill.taskId);
    else if (m.msg === 'ack' && m.ack) for (const id of m.ack.updateIds) this.outbox.delete(id);
    for (const fn of this.listeners) fn();
  }

  private onLaunch(spec: TaskSpec__Output, term: number): void {
    this.launches.push(spec);
    this.launchTerms.push(term);
    this.o.onLaunched?.(spec.taskId);
    if (this.tasks.has(spec.taskId)) return; // idempotent by task id
    const t: SimTask = { spec, state: 'TASK_LAUNCHED' };
    this.tasks.set(spec.taskId, t);
    for (const state of this.o.onLaunch ?? ['TASK_STARTING', 'TASK_RUNNING']) {
      t.state = state;
      this.report(spec.taskId, state);
    }
    // A real agent checks a task with a health spec and reports its health; the simulator
    // reports the outcome its options name (a passing check by default), at once.
    const health = this.o.health ?? 'HEALTHY';
    if (t.state === 'TASK_RUNNING' && spec.healthcheck && health !== 'NONE') {
      this.report(spec.taskId, 'TASK_RUNNING', undefined, health);
    }
  }

  private onKill(taskId: string): void {
    this.kills.push(taskId);
    const t = this.tasks.get(taskId);
    if (!t || isEnded(t.state)) return;
    t.state = 'TASK_KILLED';
    this.report(taskId, 'TASK_KILLED', 143);
  }

  private report(
    taskId: string,
    state: string,
    exitCode?: number,
    health?: 'HEALTHY' | 'UNHEALTHY',
  ): void {
    const u: StatusUpdate = {
      updateId: `${this.o.agentId}-${++this.counter}`,
      taskId,
      state,
      message: '',
      hasExitCode: exitCode !== undefined,
      exitCode: exitCode ?? 0,
      atMs: Date.now(),
    };
    if (health) u.healthcheck = { health, startup: true, atMs: Date.now() };
    this.outbox.set(u.updateId as string, u);
    this.write({ status: u });
  }

  private write(msg: AgentMessage): void {
    try {
      this.call?.write(msg);
    } catch {
      /* stream gone; reconnect re-sends */
    }
  }
}

function isEnded(state: string): boolean {
  return ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST'].includes(state);
}
