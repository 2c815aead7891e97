/**
 * Synthetic histories for the checker's unit tests: transactions as ZooKeeper would log them
 * and client operations as the workload would record them, built by hand so each test can
 * plant exactly one violation and prove the check that should catch it does.
 */
import type { Op, OpKind, Outcome } from '../workload/history.js';
import type { Txn, TxnOp } from '../zk/txn-log.js';

/** The chroot of synthetic histories. */
export const CHROOT = '/c';

/** Builds a committed history, one transaction per call, times strictly increasing. */
export class TxnBuilder {
  readonly txns: Txn[] = [];
  private zxid = 0x100000000;
  time = 1_000_000;

  private push(ops: TxnOp[], session: string, multi: boolean): this {
    this.txns.push({
      zxid: this.zxid++,
      time: (this.time += 10),
      session,
      cxid: 0,
      multi,
      failed: ops.some((o) => o.type === 'error'),
      ops,
    });
    return this;
  }

  /** Advances the clock. */
  wait(ms: number): this {
    this.time += ms;
    return this;
  }

  create(path: string, doc: unknown, o: { session?: string; ephemeral?: boolean } = {}): this {
    const op: TxnOp = {
      type: 'create',
      path: CHROOT + path,
      data: encode(doc),
      ephemeral: !!o.ephemeral,
    };
    return this.push([op], o.session ?? 's1', false);
  }

  set(path: string, doc: unknown, session = 's1'): this {
    return this.push(
      [{ type: 'setData', path: CHROOT + path, data: encode(doc), version: 1 }],
      session,
      false,
    );
  }

  /** A multi, fenced by `fence` (a latch path) when given, as the leader writes. */
  multi(
    fence: string | undefined,
    ops: ({ set: string; doc: unknown } | { create: string; doc: unknown } | { del: string })[],
    session = 's1',
  ): this {
    const all: TxnOp[] = fence ? [{ type: 'check', path: CHROOT + fence, version: 1 }] : [];
    for (const o of ops) {
      if ('set' in o)
        all.push({ type: 'setData', path: CHROOT + o.set, data: encode(o.doc), version: 1 });
      else if ('create' in o)
        all.push({
          type: 'create',
          path: CHROOT + o.create,
          data: encode(o.doc),
          ephemeral: false,
        });
      else all.push({ type: 'delete', path: CHROOT + o.del });
    }
    return this.push(all, session, true);
  }

  closeSession(session: string, paths: string[]): this {
    return this.push(
      [{ type: 'closeSession', paths: paths.map((p) => CHROOT + p) }],
      session,
      false,
    );
  }

  /** A latch for `session`, and the term it claims (fenced by that latch). */
  leader(latch: string, term: number, session: string, leaderId = session): this {
    this.create(latch, { replicaId: leaderId }, { session, ephemeral: true });
    return this.multi(latch, [{ set: '/leader/term', doc: { term, leaderId } }], session);
  }
}

function encode(doc: unknown): Buffer {
  return Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
}

/** A task document as the leader stores it. */
export function taskDoc(
  taskId: string,
  o: {
    agentId?: string;
    instanceNo?: number;
    state?: string;
    ports?: number[];
    cpus?: number;
    killReason?: string;
  } = {},
): Record<string, unknown> {
  const [requestId, deployId] = taskId.split('-');
  return {
    taskId,
    requestId,
    deployId,
    instanceNo: o.instanceNo ?? 1,
    agentId: o.agentId ?? 'a1',
    host: '127.0.0.1',
    ports: o.ports ?? [],
    resources: { cpus: o.cpus ?? 0.1, memoryMb: 16, diskMb: 0 },
    state: o.state ?? 'TASK_RUNNING',
    ...(o.killReason ? { killReason: o.killReason } : {}),
  };
}

/** An agent document. */
export function agentDoc(cpus: number, ports = { begin: 100, end: 199 }): Record<string, unknown> {
  return { resources: { cpus, memoryMb: 1024, diskMb: 0 }, portRanges: [ports] };
}

let nextOp = 0;

/** A recorded operation. */
export function op(
  kind: OpKind,
  invokeMs: number,
  completeMs: number,
  outcome: Outcome,
  extra: Partial<Op> = {},
): Op {
  return {
    id: nextOp++,
    process: 'p',
    kind,
    target: 'r1',
    invokeMs,
    completeMs,
    outcome,
    ...extra,
  };
}
