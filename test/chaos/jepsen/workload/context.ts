/** What every workload client shares: the history, where the cluster listens, the stop flag. */
import type { Rng } from '../rng.js';
import { type Answer, call } from './api-client.js';
import type { History, Op, OpKind } from './history.js';

/** An active task as `GET /api/tasks/active` shows it (the fields the workload reads). */
export interface ActiveTaskView {
  id: string;
  requestId: string;
  deployId: string;
  instanceNo: number;
  agentId: string;
  host: string;
  state: string;
  ports: number[];
}

/** The shared part of every client. */
export class WorkloadContext {
  private stopping = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    readonly history: History,
    readonly replicas: readonly { id: string; url: string }[],
    /** Base URL of nginx (the lb-agent's listener). */
    readonly nginxUrl: string,
  ) {}

  /** Whether the clients should finish. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Tells every client to finish after its current operation (sleeps end at once). */
  stop(): void {
    this.stopping = true;
    for (const wake of this.wakers) wake();
  }

  /** Sleeps `ms`, or less if the run stops meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** A replica picked by `rng` (any replica accepts reads and writes). */
  replica(rng: Rng): { id: string; url: string } {
    return rng.pick(this.replicas);
  }

  /** Runs one HTTP call against a replica as a recorded operation. */
  async apiOp(
    rng: Rng,
    meta: { process: string; kind: OpKind; requestId?: string; value?: unknown },
    method: string,
    path: string,
    body?: unknown,
    keep: (answer: Answer) => unknown = () => undefined,
  ): Promise<{ op: Op; answer: Answer | undefined }> {
    const r = this.replica(rng);
    let answer: Answer | undefined;
    const op = await this.history.run({ ...meta, target: r.id }, async () => {
      answer = await call(`${r.url}${path}`, method, body);
      const result = answer.outcome === 'ok' ? keep(answer) : undefined;
      return {
        outcome: answer.outcome,
        ...(answer.status === undefined ? {} : { status: answer.status }),
        ...(answer.error === undefined ? {} : { error: answer.error }),
        ...(result === undefined ? {} : { result }),
      };
    });
    return { op, answer };
  }

  /** Active tasks as one replica sees them (a recorded read), or undefined if it failed. */
  async readTasks(rng: Rng, process: string): Promise<ActiveTaskView[] | undefined> {
    const { answer } = await this.apiOp(
      rng,
      { process, kind: 'read-tasks' },
      'GET',
      '/api/tasks/active',
      undefined,
      (a) => (a.body as ActiveTaskView[]).length,
    );
    return answer?.outcome === 'ok' ? (answer.body as ActiveTaskView[]) : undefined;
  }
}
