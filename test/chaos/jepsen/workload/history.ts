/**
 * The history of a chaos run, Jepsen-style: every client operation with its invocation and
 * completion times and its outcome. `ok` means the system acknowledged it; `fail` means it
 * certainly did not happen (a 4xx, a refused connection); `info` means it may or may not have
 * happened (a timeout, a reset connection, a 5xx) — never counted as failed.
 */

/** How an operation ended. */
export type Outcome = 'ok' | 'fail' | 'info';

/** The kinds of operations the workload performs. */
export type OpKind =
  | 'create'
  | 'upsert'
  | 'scale'
  | 'pause'
  | 'unpause'
  | 'delete'
  | 'deploy'
  | 'kill'
  | 'read-request'
  | 'read-tasks'
  | 'read-state'
  | 'nginx'
  | 'lb-submit'
  | 'lb-result'
  | 'hostile'
  | 'cleanup';

/** One operation. Times are ms since the epoch (every process shares this host's clock). */
export interface Op {
  id: number;
  /** The client that ran it (one client runs one operation at a time). */
  process: string;
  kind: OpKind;
  /** The replica (or nginx, or agent) it was sent to. */
  target: string;
  /** The request it concerns, if any. */
  requestId?: string;
  /** What it wrote (instances, deploy id, task id, upstreams…) or asked. */
  value?: unknown;
  invokeMs: number;
  completeMs: number;
  outcome: Outcome;
  /** HTTP status, when there was an answer. */
  status?: number;
  error?: string;
  /** What the checker needs of the answer (trimmed). */
  result?: unknown;
}

/** What an operation's body reports back to {@link History.run}. */
export interface OpResult {
  outcome: Outcome;
  status?: number;
  error?: string;
  result?: unknown;
}

/** The operations recorded so far, in completion order. */
export class History {
  readonly ops: Op[] = [];
  private nextId = 0;

  /** Runs `body`, recording its invocation, completion and outcome; returns the record. */
  async run(
    meta: Pick<Op, 'process' | 'kind' | 'target' | 'requestId' | 'value'>,
    body: () => Promise<OpResult>,
  ): Promise<Op> {
    const id = this.nextId++;
    const invokeMs = Date.now();
    let r: OpResult;
    try {
      r = await body();
    } catch (err) {
      // A client-side bug is not a system answer: the write may have gone out.
      r = { outcome: 'info', error: `client error: ${String(err)}` };
    }
    const op: Op = { id, ...meta, invokeMs, completeMs: Date.now(), ...r };
    this.ops.push(op);
    return op;
  }

  /** Counts by outcome. */
  counts(): Record<Outcome, number> {
    const c: Record<Outcome, number> = { ok: 0, fail: 0, info: 0 };
    for (const op of this.ops) c[op.outcome]++;
    return c;
  }
}
