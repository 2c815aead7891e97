import { z } from 'zod';
import {
  type AgentRecord,
  AgentStore,
  DeployStore,
  IntentStore,
  type RequestRecord,
  RequestStore,
  type Task,
  TaskStore,
  actionInputSchema,
  agentIdSchema,
  deployRequestInputSchema,
  deployWarnings,
  isTerminal,
  parseId,
  parseInput,
  requestIdSchema,
  requestInputSchema,
  requestWarnings,
  scaleInputSchema,
  taskIdSchema,
  toDeploy,
  toRequest,
  type FieldWarning,
  CacheLagError,
  type WatchedState,
} from '../state/index.js';
import { type Coordinator, linearizableBarrier } from '../coordination/index.js';
import { ApiError } from './errors.js';
import type { ReadConsistency } from './read-consistency.js';
import { type RequestParent, toRequestParent } from './request-parent.js';

/** Singularity's `SingularityMachineChangeRequest`: the optional body of freeze and friends. */
const machineChangeInputSchema = z.strictObject({
  message: z.string().max(1000).optional(),
  actionId: z.string().max(100).optional(),
  durationMillis: z.int().min(0).optional(),
  killTasksOnDecommissionTimeout: z.boolean().optional(),
});
/**
 * How long a read waits for the replica's watched state to apply what it has been notified
 * of, before reading ZooKeeper instead.
 */
const CACHE_WAIT_MS = 2_000;

const sandboxQuerySchema = z.strictObject({
  path: z.string().min(1).max(1024).default('stdout'),
  offset: z.coerce.number().int().min(0).default(0),
  length: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .default(64 * 1024),
});

/**
 * The request, deploy, task and agent operations of every replica, validated with the shared
 * zod schemas (HTTP and gRPC call the same methods): desired state is written by
 * compare-and-set, leader commands as intents. Nothing is written on bad input.
 */
export class TasksApi {
  readonly requests: RequestStore;
  readonly deploys: DeployStore;
  readonly tasks: TaskStore;
  readonly agents: AgentStore;
  readonly intents: IntentStore;

  constructor(
    private readonly zk: Coordinator,
    /**
     * The replica's watched state: reads of requests and active tasks answer from it (after
     * it has applied every change this session was notified of, so a client reads its own
     * writes); without it, or when it lags, they read ZooKeeper.
     */
    private readonly view?: WatchedState,
  ) {
    this.requests = new RequestStore(zk);
    this.deploys = new DeployStore(zk, this.requests);
    this.tasks = new TaskStore(zk);
    this.agents = new AgentStore(zk);
    this.intents = new IntentStore(zk);
  }

  /**
   * How old this replica's view of the cluster may be, in ms (0: connected and loaded), or
   * undefined without a watched state.
   */
  viewAgeMs(): number | undefined {
    return this.view?.viewAgeMs();
  }

  /** Creates or updates a request. */
  async saveRequest(body: unknown): Promise<RequestParent> {
    const input = parseInput(requestInputSchema, body ?? null);
    const request = toRequest(input);
    const { record, created } = await this.requests.upsert(request);
    // A new request is answered from the record written, without waiting for the cache to
    // read it back (its watch event came before the create's answer, so a later read here
    // still waits for it): the write changed no deploy, so the cached ones are current.
    const parent =
      created && this.view
        ? this.parentFromView(this.view, record)
        : await this.getRequest(request.id);
    return withWarnings(parent, requestWarnings(input));
  }

  /** Every request with its deploys. */
  async listRequests(consistency: ReadConsistency = 'sequential'): Promise<RequestParent[]> {
    const view = await this.readAs(consistency);
    if (view) {
      const out: RequestParent[] = [];
      for (const id of view.requestIds()) {
        const stored = view.request(id);
        if (stored) out.push(this.parentFromView(view, stored.value));
      }
      return out;
    }
    const all = await this.requests.list();
    return Promise.all(all.map((stored) => this.toParent(stored.value)));
  }

  /** One request with its deploys. */
  async getRequest(
    requestId: string,
    consistency: ReadConsistency = 'sequential',
  ): Promise<RequestParent> {
    const id = parseId(requestIdSchema, requestId, 'requestId');
    const view = await this.readAs(consistency);
    const stored = view?.request(id);
    if (view && stored) return this.parentFromView(view, stored.value);
    // Not cached (or no cache): ZooKeeper answers, with its NOT_FOUND.
    return this.toParent((await this.requests.get(id)).value);
  }

  /** Sets the instance count. */
  async scale(requestId: string, body: unknown): Promise<RequestParent> {
    const id = parseId(requestIdSchema, requestId, 'requestId');
    const scale = parseInput(scaleInputSchema, body ?? null);
    return this.toParent(await this.requests.scale(id, scale.instances));
  }

  /** pause / unpause / delete. */
  async action(requestId: string, action: 'pause' | 'unpause' | 'delete', body: unknown) {
    const id = parseId(requestIdSchema, requestId, 'requestId');
    parseInput(actionInputSchema, body ?? {});
    const record =
      action === 'pause'
        ? await this.requests.pause(id)
        : action === 'unpause'
          ? await this.requests.unpause(id)
          : await this.requests.markDeleting(id);
    return this.toParent(record);
  }

  /** Submits a deploy (pending until its tasks run). */
  async deploy(body: unknown): Promise<RequestParent> {
    const input = parseInput(deployRequestInputSchema, body ?? null);
    const { deploy: submitted, request, first } = await this.deploys.submit(toDeploy(input));
    // A request's first deploy is answered from what was written (the request as checked in
    // its multi, which created the deploy directories: nothing else is active or pending),
    // without waiting for the cache to read it back.
    const parent = first
      ? toRequestParent(request, { active: null, pending: submitted }, null)
      : await this.getRequest(input.deploy.requestId);
    // The answer describes the write just acknowledged: the leader may already have promoted
    // the deploy (its tasks can run within milliseconds), but to the caller it was accepted
    // as pending, as Singularity's deploy response reports it.
    if (parent.activeDeploy?.id !== submitted.id) parent.pendingDeploy = submitted;
    return withWarnings(parent, deployWarnings(input.deploy));
  }

  /** Active tasks, optionally of one agent. */
  async activeTasks(
    agentId?: string,
    consistency: ReadConsistency = 'sequential',
  ): Promise<Task[]> {
    const id = agentId === undefined ? undefined : parseId(agentIdSchema, agentId, 'agentId');
    const view = await this.readAs(consistency, 'tasks');
    const all = view ? view.activeTasks() : await this.tasks.allActive();
    return id === undefined ? all : all.filter((task) => task.agentId === id);
  }

  /** Ended tasks of a request, newest first. */
  async taskHistory(
    requestId: string,
    consistency: ReadConsistency = 'sequential',
  ): Promise<Task[]> {
    const id = parseId(requestIdSchema, requestId, 'requestId');
    await this.readAs(consistency);
    return this.tasks.historyOf(id);
  }

  /** A task, active or ended. */
  async getTask(taskId: string, consistency: ReadConsistency = 'sequential'): Promise<Task> {
    const id = parseId(taskIdSchema, taskId, 'taskId');
    await this.readAs(consistency);
    return this.tasks.get(id);
  }

  /** Asks the leader to kill an active task (a durable intent). */
  async killTask(taskId: string, body: unknown): Promise<{ taskId: string; state: string }> {
    const id = parseId(taskIdSchema, taskId, 'taskId');
    const { message } = parseInput(actionInputSchema, body ?? {});
    const task = await this.tasks.get(id);
    if (isTerminal(task.state)) {
      throw new ApiError('CONFLICT', `task ${id} has already ended (${task.state})`);
    }
    await this.intents.killTask({
      taskId: id,
      requestId: task.requestId,
      at: Date.now(),
      ...(message ? { message } : {}),
    });
    return { taskId: id, state: 'KILL_REQUESTED' };
  }

  /** Every agent. */
  async listAgents(consistency: ReadConsistency = 'sequential'): Promise<AgentRecord[]> {
    await this.readAs(consistency);
    return (await this.agents.list()).map((stored) => stored.value);
  }

  /** freeze / decommission / activate. */
  setAgentState(
    agentId: string,
    action: 'freeze' | 'decommission' | 'activate',
    body: unknown,
  ): Promise<AgentRecord> {
    const id = parseId(agentIdSchema, agentId, 'agentId');
    parseInput(machineChangeInputSchema, body ?? {});
    const to =
      action === 'freeze' ? 'FROZEN' : action === 'activate' ? 'ACTIVE' : 'DECOMMISSIONING';
    return this.agents.setAdminState(id, to);
  }

  /** Reads a file of a task's sandbox from its agent. */
  async readSandbox(taskId: string, query: Record<string, unknown>): Promise<unknown> {
    const read = parseInput(sandboxQuerySchema, query);
    const task = await this.getTask(taskId);
    const agent = (await this.agents.get(task.agentId)).value;
    if (!agent.httpAddress)
      throw new ApiError('UNAVAILABLE', `agent ${agent.agentId} has no HTTP address`);
    const params = new URLSearchParams({
      path: read.path,
      offset: String(read.offset),
      length: String(read.length),
    });
    const url = `http://${agent.httpAddress}/sandbox/${encodeURIComponent(task.taskId)}/read?${params}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    } catch (err) {
      throw new ApiError(
        'UNAVAILABLE',
        `agent ${agent.agentId} at ${agent.httpAddress} did not answer`,
        {},
        { cause: err },
      );
    }
    const body = (await res.json().catch(() => null)) as unknown;
    if (res.status === 404)
      throw new ApiError('NOT_FOUND', `sandbox file ${read.path} of ${taskId} not found`);
    if (!res.ok)
      throw new ApiError('UNAVAILABLE', `agent ${agent.agentId} answered ${res.status}`, {
        agent: body,
      });
    return body;
  }

  /**
   * Prepares a read: a linearizable one first passes a quorum-ordered barrier on this
   * replica's session. Returns the watched state once it has applied every change notified
   * before (the barrier's included), or undefined to read ZooKeeper instead.
   */
  private async readAs(
    consistency: ReadConsistency,
    of: 'requests' | 'tasks' = 'requests',
  ): Promise<WatchedState | undefined> {
    if (consistency === 'linearizable') await linearizableBarrier(this.zk);
    if (!this.view) return undefined;
    try {
      // Only the trees the read answers from: the tasks tree is busy while tasks start, and
      // a request read need not wait for it.
      const trees = of === 'tasks' ? [this.view.tasksTree] : this.view.desiredTrees();
      await this.view.caughtUp(CACHE_WAIT_MS, trees);
      return this.view;
    } catch (err) {
      if (err instanceof CacheLagError) return undefined;
      throw err;
    }
  }

  private parentFromView(view: WatchedState, record: RequestRecord): RequestParent {
    const id = record.request.id;
    return toRequestParent(record, view.deploysOf(id), view.progressOf(id));
  }

  private async toParent(record: RequestRecord): Promise<RequestParent> {
    const view = await this.readAs('sequential');
    if (view) return this.parentFromView(view, record);
    const [deploys, progress] = await Promise.all([
      this.deploys.forRequest(record.request.id),
      this.deploys.progress(record.request.id),
    ]);
    return toRequestParent(record, deploys, progress);
  }
}

/** The answer with `warnings` when there are any (Singularity clients ignore the field). */
function withWarnings(parent: RequestParent, warnings: FieldWarning[]): RequestParent {
  return warnings.length > 0 ? { ...parent, warnings } : parent;
}
