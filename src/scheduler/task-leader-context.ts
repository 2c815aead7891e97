import os from 'node:os';
import type { Logger } from 'pino';
import type { Coordinator, ZkOp } from '../coordination/index.js';
import type { FencedWriter } from '../leader/index.js';
import {
  type KillCause,
  type AgentRecord,
  type Deploy,
  type Task,
  childrenOrEmpty,
  statePaths,
} from '../state/index.js';
import type { AgentSession } from './agent-session.js';
import { TaskMap } from './task-map.js';

/** Timing of the task leader; defaults suit production, tests shorten them by environment. */
export interface TaskLeaderOptions {
  /** After a takeover, how long agents have to reconnect before their tasks are LOST. */
  reconnectGraceMs: number;
  /** How long a known agent may stay disconnected before it is lost. */
  agentLostMs: number;
  /** An agent silent (no heartbeat) this long counts as disconnected. */
  heartbeatTimeoutMs: number;
  /** Periodic cycle (back-off expiry, lost agents, kill re-sends). */
  tickMs: number;
  /** Launches per fenced multi. */
  batchSize: number;
  /** Grace for SIGTERM → SIGKILL in Kill commands. */
  killGraceMs: number;
  /** Worker threads of the offer matcher pool (the replica's `matcherThreads`). */
  matcherThreads: number;
  /** How long a connected agent may leave an active task unreported before it is LOST. */
  unreportedGraceMs: number;
  /** How long after its Launch a task the agent has not acknowledged is launched again. */
  relaunchAfterMs: number;
}

/** Production defaults. */
export const DEFAULT_TASK_LEADER_OPTIONS: TaskLeaderOptions = {
  // Above an agent's worst case to notice a paused leader (gRPC keepalive 10 s + 20 s timeout).
  reconnectGraceMs: 45_000,
  agentLostMs: 10_000,
  heartbeatTimeoutMs: 5_000,
  tickMs: 1_000,
  batchSize: 100,
  killGraceMs: 5_000,
  matcherThreads: os.availableParallelism(),
  // Outside a registration an agent's report only lags by status updates in flight.
  unreportedGraceMs: 10_000,
  relaunchAfterMs: 10_000,
};

/** One agent as the leader tracks it. */
export interface AgentEntry {
  record: AgentRecord;
  /** Znode version of `/agents/<id>` as last read or written (for compare-and-set). */
  version: number;
  session?: AgentSession;
  /** When it was last seen disconnected (or the takeover time if it never connected). */
  disconnectedAt: number;
}

/**
 * The leadership's in-memory state and its command switch, as the drivers use them
 * (TaskLeaderContext in production; a fake in unit tests).
 */
export interface LeaderState {
  /** Active tasks by id, indexed by request and agent (this leader is their only writer). */
  readonly tasks: TaskMap;
  readonly agents: Map<string, AgentEntry>;
  /** Kill commands sent: taskId → when (re-sent while the task stays active). */
  readonly killsSent: Map<string, { at: number; cause: KillCause }>;
  readonly options: TaskLeaderOptions;
  readonly logger: Logger;
  /** The term stamped on every command. */
  readonly term: number;
  /** Whether commands may be sent now (leading, connected). */
  readonly active: boolean;
}

/**
 * Everything one leadership holds in memory, rebuilt from ZooKeeper on establish and dropped
 * on revoke: active tasks (this leader is their only writer), agents and their streams, and
 * the serialization of task-changing writes.
 */
export class TaskLeaderContext implements LeaderState {
  /** Active tasks by id, noting the requests whose tasks changed (see task-map.ts). */
  readonly tasks = new TaskMap();
  readonly agents = new Map<string, AgentEntry>();
  /** `requestId/deployId` → deploy (deploys never change once stored). */
  readonly deploys = new Map<string, Deploy>();
  /** Kill commands sent: taskId → when (re-sent while the task stays active). */
  readonly killsSent = new Map<string, { at: number; cause: KillCause }>();
  readonly establishedAt = Date.now();
  paused = false;
  revoked = false;
  /** Launch rounds committing now; status writes wait for them (launches go first). */
  launchesInFlight = 0;
  private launchWaiters: (() => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly zk: Coordinator,
    readonly writer: FencedWriter,
    readonly options: TaskLeaderOptions,
    readonly logger: Logger,
  ) {}

  /** This leadership's term. */
  get term(): number {
    return this.writer.term;
  }

  /** Whether commands may be sent now. */
  get active(): boolean {
    return !this.paused && !this.revoked;
  }

  /**
   * Runs `work` after every earlier serialized write: task state changes (status updates,
   * LOST, promotions) compute their ops from memory while no other such write is in flight,
   * so two transitions of one task never race in one multi.
   */
  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves when no launch round is committing (at most `maxWaitMs` later). */
  launchesSettled(maxWaitMs = 2_000): Promise<void> {
    if (this.launchesInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxWaitMs);
      this.launchWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Called by the launcher when its last round in flight is done. */
  emitLaunchesDone(): void {
    for (const w of this.launchWaiters.splice(0)) w();
  }

  /** A fenced multi. */
  write(ops: ZkOp[]): Promise<void> {
    return this.writer.write(ops);
  }

  /** The task ids in a request's history in ZooKeeper (making its directory if needed). */
  async historyTaskIds(requestId: string): Promise<string[]> {
    await this.zk.mkdirp(statePaths.tasksHistoryDir(requestId));
    return childrenOrEmpty(this.zk, statePaths.tasksHistoryDir(requestId));
  }

  /** Whether a task's active znode is still in ZooKeeper. */
  async activeInStore(task: Task): Promise<boolean> {
    return !!(await this.zk.exists(statePaths.taskActive(task.requestId, task.taskId)));
  }

  /** Active tasks on one agent. */
  tasksOn(agentId: string): Task[] {
    return [...this.tasks.ofAgent(agentId)];
  }

  /** Whether an agent has a live stream. */
  connected(agentId: string): boolean {
    return !!this.agents.get(agentId)?.session?.open;
  }
}
