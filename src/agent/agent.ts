import { existsSync } from 'node:fs';
import http from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  type LeaderDiscovery,
  closeHttpServer,
  listen,
  readJsonOrUndefined,
  writeJsonAtomic,
} from '../runtime/index.js';
import type { LeaderMessage__Output } from '../gen/thales/v1/LeaderMessage.js';
import type { Register } from '../gen/thales/v1/Register.js';
import type { StatusUpdate } from '../gen/thales/v1/StatusUpdate.js';
import { AgentIdentityStore } from './agent-identity.js';
import { makeAgentHttpApp } from './agent-http.js';
import { CommandQueue } from './command-queue.js';
import { type AgentMetrics, makeAgentMetrics } from './agent-metrics.js';
import { HealthChecker } from './health-checker.js';
import type { HealthReport } from './health-policy.js';
import { type LeaderStream, makeLeaderStream } from './leader-stream.js';
import type { AgentResources } from './resources.js';
import {
  type HealthJson,
  WorkDirLayout,
  isSafeTaskId,
  isTerminal,
  readSandbox,
} from './sandbox-layout.js';
import { type OutboxEntry, StatusOutbox } from './status-outbox.js';
import { type TaskReport, TaskSupervisor } from './task-supervisor.js';
import { decideTerm } from './term-fence.js';

/** Everything `thales agent` runs with, once flags are validated and resources detected. */
export interface AgentOptions {
  workDir: string;
  agentId?: string;
  host: string;
  rack: string;
  attributes: Record<string, string>;
  resources: AgentResources;
  portRanges: { begin: number; end: number }[];
  httpHost: string;
  httpPort: number;
  /** Where the leader is: `--scheduler` addresses and/or ZooKeeper's `/leader` latch. */
  discovery: LeaderDiscovery;
  executorArgv: string[];
  version: string;
  logger: Logger;
  registry: Registry;
}

/**
 * `thales agent`: holds the stream to the leader, launches and kills tasks through executors,
 * and keeps every status update in its outbox until the leader acknowledges it.
 */
export class Agent {
  readonly layout: WorkDirLayout;
  private readonly identity: AgentIdentityStore;
  private readonly outbox: StatusOutbox;
  private readonly supervisor: TaskSupervisor;
  private readonly commands: CommandQueue;
  private readonly stream: LeaderStream;
  private readonly health: HealthChecker;
  private readonly metrics: AgentMetrics;
  private readonly log: Logger;
  private server: http.Server | undefined;
  private httpAddress = '';
  private counter = 0;
  private readonly bootId = Date.now().toString(36);

  constructor(private readonly o: AgentOptions) {
    this.layout = new WorkDirLayout(o.workDir);
    this.identity = new AgentIdentityStore(this.layout.agentJson, o.agentId);
    this.log = o.logger.child({ component: 'agent', agentId: this.identity.agentId });
    this.outbox = new StatusOutbox(this.layout.outboxDir);
    this.metrics = makeAgentMetrics(o.registry);
    this.supervisor = new TaskSupervisor({
      layout: this.layout,
      agentId: this.identity.agentId,
      host: o.host,
      executorArgv: o.executorArgv,
      logger: this.log,
      report: (r) => this.report(r),
    });
    this.health = new HealthChecker({
      host: o.host,
      logger: this.log,
      report: (taskId, r) => this.reportHealth(taskId, r),
      persist: (taskId, status) => {
        const health: HealthJson = { status, at: Date.now() };
        writeJsonAtomic(this.layout.file(taskId, 'health.json'), health);
      },
      onChecked: (c) => this.metrics.healthChecks.inc({ result: c.ok ? 'passed' : 'failed' }),
    });
    this.commands = new CommandQueue({
      logger: this.log,
      highestTerm: () => this.identity.highestTerm,
    });
    this.stream = makeLeaderStream({
      discovery: o.discovery,
      logger: this.log,
      register: () => this.makeRegister(),
      pending: () => this.pendingToSend(),
      admitTerm: (term, m) => this.admitTerm(term, m),
      onMessage: (m) => this.onLeaderMessage(m),
      onReconnect: () => this.metrics.reconnects.inc(),
      onConnectedChange: (c) => this.metrics.connected.set(c ? 1 : 0),
    });
  }

  /** The stable agent id. */
  get agentId(): string {
    return this.identity.agentId;
  }

  /** Re-attaches to sandboxes, serves HTTP, then connects to the leader. */
  async start(): Promise<void> {
    this.supervisor.start();
    // Re-attached tasks that run resume their checks where their sandbox left them.
    for (const t of this.supervisor.activeTasks())
      if (t.state === 'TASK_RUNNING') this.startHealthChecks(t.taskId, undefined);
    this.server = http.createServer(
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback catches (ctx.onerror)
      makeAgentHttpApp({
        agentId: this.agentId,
        layout: this.layout,
        registry: this.o.registry,
        logger: this.log,
        connected: () => this.stream.connected,
        tasks: () => this.supervisor.activeTasks(),
      }).callback(),
    );
    await listen(this.server, this.o.httpHost, this.o.httpPort, 'http');
    const address = this.server.address();
    const port = typeof address === 'object' && address ? address.port : this.o.httpPort;
    this.httpAddress = `${this.o.host}:${port}`;
    this.refreshGauges();
    this.stream.start();
    this.log.info({ httpAddress: this.httpAddress, resources: this.o.resources }, 'agent started');
  }

  /** Stops the stream and the HTTP endpoint; tasks keep running under their executors. */
  async stop(): Promise<void> {
    this.stream.stop();
    this.supervisor.stop();
    this.health.stop();
    if (this.server) await closeHttpServer(this.server, 1_000);
  }

  private makeRegister(): Register {
    const active = this.supervisor.activeTasks();
    const activeIds = new Set(active.map((t) => t.taskId));
    // Tasks that ended but whose final update the leader has not acknowledged yet.
    const ended = this.outbox
      .pending()
      .filter((e) => !activeIds.has(e.taskId) && !e.healthcheck)
      .map((e) => ({ taskId: e.taskId, state: e.state }));
    const lastByTask = new Map([...ended, ...active].map((t) => [t.taskId, t.state]));
    return {
      agentId: this.agentId,
      host: this.o.host,
      rack: this.o.rack,
      attributes: this.o.attributes,
      resources: this.o.resources,
      portRanges: this.o.portRanges,
      tasks: [...lastByTask].map(([taskId, state]) => ({ taskId, state })),
      highestTerm: this.identity.highestTerm,
      httpAddress: this.httpAddress,
      version: this.o.version,
    };
  }

  /** Term fencing: an older term is refused; a newer one is persisted before it is acted on. */
  private admitTerm(term: number, m: LeaderMessage__Output): boolean {
    const decision = decideTerm(this.identity.highestTerm, term);
    if (decision === 'refuse') {
      this.metrics.refusedTerm.inc();
      this.log.warn(
        { term, highestTerm: this.identity.highestTerm, msg: m.msg },
        'refused a message from an older leader term',
      );
      return false;
    }
    if (decision === 'raise') this.identity.raiseTerm(term);
    return true;
  }

  private onLeaderMessage(m: LeaderMessage__Output): void {
    switch (m.msg) {
      case 'registered':
        this.log.info({ term: m.term }, 'registered with the leader');
        break;
      case 'launch': {
        const task = m.launch?.task;
        if (task) {
          this.metrics.launches.inc();
          this.commands.push(m.term, `launch ${task.taskId}`, () => this.supervisor.launch(task));
        }
        break;
      }
      case 'kill': {
        const kill = m.kill;
        if (kill) {
          this.metrics.kills.inc();
          // A task being stopped fails its checks: those results would only be noise.
          this.health.untrack(kill.taskId);
          this.commands.push(m.term, `kill ${kill.taskId}`, () =>
            this.supervisor.kill(kill.taskId, kill.graceMs, kill.reason),
          );
        }
        break;
      }
      case 'ack': {
        const n = this.outbox.ack(m.ack?.updateIds ?? []);
        this.metrics.updatesAcked.inc(n);
        break;
      }
      default:
        break;
    }
    this.refreshGauges();
  }

  /** Persists a state change in the outbox (and the sandbox's reported.json), then sends it. */
  private report(r: TaskReport): string {
    const updateId = `${this.agentId}-${this.bootId}-${++this.counter}`;
    const entry = this.outbox.add({
      updateId,
      taskId: r.taskId,
      state: r.state,
      message: r.message,
      hasExitCode: r.exitCode !== undefined,
      exitCode: r.exitCode ?? 0,
      atMs: Date.now(),
    });
    // An unknown task (kill of a task never launched here) has no sandbox to note it in.
    if (isSafeTaskId(r.taskId) && existsSync(this.layout.sandbox(r.taskId)))
      writeJsonAtomic(this.layout.file(r.taskId, 'reported.json'), { state: r.state, updateId });
    this.log.info(
      { taskId: r.taskId, state: r.state, updateId, exitCode: r.exitCode },
      'task state',
    );
    if (this.stream.write({ status: toStatusUpdate(entry) })) this.metrics.updatesSent.inc();
    if (r.state === 'TASK_RUNNING') this.startHealthChecks(r.taskId, Date.now());
    else if (isTerminal(r.state)) this.health.untrack(r.taskId);
    this.refreshGauges();
    return updateId;
  }

  /**
   * Starts the checks of a running task from its sandbox's TaskSpec (none when the leader
   * sent no health-check spec), resuming from its recorded health after a restart. The
   * clock starts when the task was reported running (`runningSince`), or, for a task
   * re-attached after a restart, when its executor started.
   */
  private startHealthChecks(taskId: string, runningSince: number | undefined): void {
    if (!isSafeTaskId(taskId)) return;
    const files = readSandbox(this.layout, taskId);
    const spec = files.task?.healthcheck;
    if (!spec || files.kill) return;
    const recorded = readJsonOrUndefined<HealthJson>(this.layout.file(taskId, 'health.json'));
    const since = runningSince ?? files.executor?.startedAt ?? Date.now();
    this.health.track(taskId, spec, since, recorded?.status);
  }

  /** Persists a health result in the outbox and sends it (the task's state is unchanged). */
  private reportHealth(taskId: string, r: HealthReport): void {
    const updateId = `${this.agentId}-${this.bootId}-${++this.counter}`;
    const o = r.outcome;
    const entry = this.outbox.add({
      updateId,
      taskId,
      state: 'TASK_RUNNING',
      message: '',
      hasExitCode: false,
      exitCode: 0,
      atMs: o.at,
      healthcheck: {
        health: r.health,
        hasStatusCode: o.statusCode !== undefined,
        statusCode: o.statusCode ?? 0,
        durationMs: Math.max(0, Math.round(o.durationMs)),
        errorMessage: o.errorMessage ?? '',
        responseBody: o.responseBody ?? '',
        startup: r.startup,
        atMs: o.at,
      },
    });
    this.metrics.healthReports.inc({ health: r.health });
    if (this.stream.write({ status: toStatusUpdate(entry) })) this.metrics.updatesSent.inc();
    this.refreshGauges();
  }

  private pendingToSend(): StatusUpdate[] {
    const all = this.outbox.pending().map(toStatusUpdate);
    this.metrics.updatesSent.inc(all.length);
    return all;
  }

  private refreshGauges(): void {
    this.metrics.updatesPending.set(this.outbox.size);
    this.metrics.tasksRunning.set(
      this.supervisor.activeTasks().filter((t) => t.state === 'TASK_RUNNING').length,
    );
  }
}

function toStatusUpdate(e: OutboxEntry): StatusUpdate {
  return {
    updateId: e.updateId,
    taskId: e.taskId,
    state: e.state,
    message: e.message,
    hasExitCode: e.hasExitCode,
    exitCode: e.exitCode,
    atMs: e.atMs,
    healthcheck: e.healthcheck ?? null,
  };
}
