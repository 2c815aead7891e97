/**
 * Fakes for unit tests of the scheduler's drivers: a StatusWriterHost that keeps the
 * leadership's task map in memory and records the multis it is asked to write (no
 * ZooKeeper), and an agent stream that records what the leader sends.
 */
import { pino } from 'pino';
import { ZkError, type ZkOp } from '../../../src/coordination/index.js';
import type { LeaderMessage } from '../../../src/gen/thales/v1/LeaderMessage.js';
import { type AgentCall, AgentSession } from '../../../src/scheduler/agent-session.js';
import type { StatusWriterHost } from '../../../src/scheduler/status-writer.js';
import { TaskMap } from '../../../src/scheduler/task-map.js';
import {
  DEFAULT_TASK_LEADER_OPTIONS,
  type AgentEntry,
  type LeaderState,
  type TaskLeaderOptions,
} from '../../../src/scheduler/task-leader-context.js';
import { type KillCause, type Task, makeTaskId, statePaths } from '../../../src/state/index.js';

/** A task in `state` on `agentId`, launched at `launchMs`. */
export function makeTask(
  requestId: string,
  instanceNo: number,
  state: Task['state'] = 'TASK_RUNNING',
  agentId = 'agent-a',
  launchMs = 1_700_000_000_000 + instanceNo,
): Task {
  return {
    taskId: makeTaskId(requestId, 'd1', launchMs, instanceNo, agentId),
    requestId,
    deployId: 'd1',
    instanceNo,
    agentId,
    host: agentId,
    rack: 'default',
    startedAt: launchMs,
    ports: [],
    resources: { cpus: 0.1, memoryMb: 16, diskMb: 0, numPorts: 0 },
    term: 1,
    state,
    updates: [{ state, at: launchMs }],
  };
}

/**
 * An in-memory leadership (StatusWriterHost and LeaderState): `writes` are the multis that
 * committed, `refusals` those refused.
 */
export class FakeHost implements StatusWriterHost, LeaderState {
  readonly tasks = new TaskMap();
  readonly agents = new Map<string, AgentEntry>();
  readonly killsSent = new Map<string, { at: number; cause: KillCause }>();
  readonly options: TaskLeaderOptions = { ...DEFAULT_TASK_LEADER_OPTIONS };
  term = 1;
  revoked = false;
  paused = false;
  readonly logger = pino({ level: 'silent' });
  readonly writes: ZkOp[][] = [];
  readonly refusals: ZkOp[][] = [];
  /** Errors the next writes fail with, in order (then they succeed). */
  readonly failNext: unknown[] = [];
  /** requestId → task ids already in its history in "ZooKeeper". */
  readonly historyInStore = new Map<string, string[]>();
  /** Errors the next history reads fail with, in order (then they succeed). */
  readonly historyReadFailures: unknown[] = [];
  /** Task ids whose active znode is gone from "ZooKeeper". */
  readonly goneFromStore = new Set<string>();
  /** When set, each write waits for this before it commits. */
  gate: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  get active(): boolean {
    return !this.revoked && !this.paused;
  }

  add(...tasks: Task[]): this {
    for (const t of tasks) this.tasks.set(t.taskId, t);
    return this;
  }

  launchesSettled(): Promise<void> {
    return Promise.resolve();
  }

  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async write(ops: ZkOp[]): Promise<void> {
    if (this.gate) await this.gate;
    const err = this.failNext.shift();
    if (err) {
      this.refusals.push(ops);
      throw err;
    }
    this.writes.push(ops);
  }

  historyTaskIds(requestId: string): Promise<string[]> {
    const err = this.historyReadFailures.shift();
    if (err) return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    return Promise.resolve([...(this.historyInStore.get(requestId) ?? [])]);
  }

  activeInStore(task: Task): Promise<boolean> {
    return Promise.resolve(!this.goneFromStore.has(task.taskId));
  }

  /** Every history entry a committed multi removed, in order. */
  removedHistory(requestId: string): string[] {
    const prefix = `${statePaths.tasksHistoryDir(requestId)}/`;
    return this.writes
      .flat()
      .filter((o) => o.op === 'remove' && o.path.startsWith(prefix))
      .map((o) => o.path.slice(prefix.length));
  }
}

/** A ZooKeeper refusal of one op of a multi (as the coordinator reports it). */
export function conflict(code: 'NODE_EXISTS' | 'NO_NODE' | 'BAD_VERSION' = 'NODE_EXISTS'): ZkError {
  return new ZkError(code, '/tasks/x', { opIndex: 1 });
}

/** A connection loss (the multi may not have landed). */
export function connectionLoss(): ZkError {
  return new ZkError('CONNECTION_LOSS', '/tasks/x');
}

/** An agent's stream that records what the leader sends on it. */
export function fakeSession(
  agentId: string,
  term = 1,
  tasks: { taskId: string; state: string }[] = [],
) {
  const sent: LeaderMessage[] = [];
  const call = { write: (m: LeaderMessage) => sent.push(m), end: () => undefined };
  const registration = { agentId, tasks } as unknown as ConstructorParameters<
    typeof AgentSession
  >[1];
  const session = new AgentSession(agentId, registration, call as unknown as AgentCall, term);
  return { session, sent };
}
