/**
 * Samples what the agents really run, from the ground: each sandbox's files and whether its
 * task process is alive (pid and start time, as the agent itself checks). Tasks keep running
 * while their agent is down, so this sees them when no API can. Each sample says whether the
 * agent was up and connected to a leader (only then can the cluster reconcile it), and each
 * task's lifecycle (first and last seen running, kill requested, finished) is kept even after
 * executor-cleanup removes its sandbox.
 */
import { isProcessAlive, readSandbox, WorkDirLayout } from '../../../../src/agent/index.js';
import { fetchJson } from '../../../../src/dev/wait-for.js';

/** A task as its sandbox describes it. */
export interface SandboxTask {
  taskId: string;
  agentId: string;
  requestId: string;
  deployId: string;
  instanceNo: number;
  cpus: number;
  memoryMb: number;
  diskMb: number;
  ports: number[];
  launchedAt: number;
  /** Sampled times the task process was seen alive. */
  firstRunningAt?: number;
  lastRunningAt?: number;
  /** kill.json's requestedAt: when the agent was told to kill it. */
  killRequestedAt?: number;
  /** exit.json's finishedAt and state. */
  finishedAt?: number;
  exitState?: string;
}

/** One agent at one moment. */
export interface AgentSample {
  at: number;
  agentId: string;
  /** The agent process runs and reports a stream to a leader. */
  connected: boolean;
  /** Task ids whose process is alive and has not exited. */
  running: string[];
}

/** The agents the sampler watches. */
export interface SampledAgent {
  id: string;
  workDir: string;
  httpUrl: string;
  isRunning: () => boolean;
}

/** The background sampler of every agent. */
export class AgentSampler {
  readonly samples: AgentSample[] = [];
  readonly tasks = new Map<string, SandboxTask>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly agents: readonly SampledAgent[],
    private readonly intervalMs = 1_000,
  ) {}

  /** Starts sampling. */
  start(): void {
    this.timer = setInterval(() => void this.sampleAll(), this.intervalMs);
  }

  /** Stops sampling (after one last sample). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    await this.sampleAll();
  }

  /** Samples every agent once. */
  async sampleAll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const health = await Promise.all(
        this.agents.map((a) =>
          a.isRunning()
            ? fetchJson<{ connected?: boolean }>(`${a.httpUrl}/health`, 800)
            : Promise.resolve(undefined),
        ),
      );
      this.agents.forEach((a, i) => {
        const at = Date.now();
        const running = this.scan(a, at);
        const connected = a.isRunning() && health[i]?.connected === true;
        this.samples.push({ at, agentId: a.id, connected, running });
      });
    } finally {
      this.busy = false;
    }
  }

  private scan(agent: SampledAgent, at: number): string[] {
    const layout = new WorkDirLayout(agent.workDir);
    const running: string[] = [];
    for (const taskId of safeList(layout)) {
      const files = readSandbox(layout, taskId);
      let task = this.tasks.get(taskId);
      if (!task && files.task) {
        const t = files.task;
        task = {
          taskId,
          agentId: agent.id,
          requestId: t.requestId,
          deployId: t.deployId,
          instanceNo: t.instanceNo,
          cpus: t.resources?.cpus ?? 0,
          memoryMb: t.resources?.memoryMb ?? 0,
          diskMb: t.resources?.diskMb ?? 0,
          ports: t.ports ?? [],
          launchedAt: t.launchedAt,
        };
        this.tasks.set(taskId, task);
      }
      if (!task) continue;
      if (files.kill && task.killRequestedAt === undefined) {
        task.killRequestedAt = files.kill.requestedAt;
      }
      if (files.exit && task.finishedAt === undefined) {
        task.finishedAt = files.exit.finishedAt;
        task.exitState = files.exit.state;
      }
      const e = files.executor;
      const alive =
        !files.exit && !!e?.taskPid && isProcessAlive(e.taskPid, e.taskStartTime ?? undefined);
      if (alive) {
        task.firstRunningAt ??= at;
        task.lastRunningAt = at;
        running.push(taskId);
      }
    }
    return running;
  }
}

function safeList(layout: WorkDirLayout): string[] {
  try {
    return layout.listSandboxes();
  } catch {
    return [];
  }
}
