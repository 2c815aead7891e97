/**
 * The LB manager's compare-and-set writes of one request, apart from the manager's
 * orchestration: each write is fenced, and each handles the one race an in-flight request
 * has — a cancel landing meanwhile (the only other writer of an in-flight request).
 */
import { ZkError } from '../coordination/index.js';
import type { FencedWriter } from '../leader/index.js';
import type { LbRequestRecord, LbRequestStateName, LbServiceRecord } from './lb-model.js';
import { type LbPlan, type LbRound, startRound, toDoneRecord } from './lb-request-state-machine.js';
import {
  type LbRequestStore,
  type Versioned,
  commitServiceOps,
  requestPath,
  setRequestOp,
} from './lb-request-store.js';

/** An apply plan of the state machine (the only kind that goes in flight). */
export type ApplyPlan = Extract<LbPlan, { kind: 'apply' }>;

/** A request being applied (or reverted) on the agents of its groups. */
export interface InFlight {
  serviceId: string;
  record: LbRequestRecord;
  /** Znode version of the request, for compare-and-set. */
  version: number;
  plan: ApplyPlan;
  round: LbRound;
  nonces: Map<string, string>;
  timer?: NodeJS.Timeout;
  canceling: boolean;
  failure?: string;
  busy: boolean;
  startedAt: number;
}

/** A request going in flight: APPLY_SENT to the targets of its plan. */
export function startInFlight(
  serviceId: string,
  head: Versioned<LbRequestRecord>,
  plan: ApplyPlan,
): InFlight {
  const round = startRound('APPLY', plan.targets);
  return {
    serviceId,
    record: { ...head.value, step: 'APPLY_SENT', agents: [...round.agents] },
    version: head.version,
    plan,
    round,
    nonces: new Map(),
    canceling: head.value.state === 'CANCELING',
    busy: false,
    startedAt: Date.now(),
  };
}

/** The request as stored, with the agents of its current round. */
export function withAgents(f: InFlight): LbRequestRecord {
  return { ...f.record, agents: [...f.round.agents] };
}

/** Fenced compare-and-set writes of in-flight requests. */
export class LbRequestWrites {
  constructor(
    private readonly store: LbRequestStore,
    private readonly writer: () => FencedWriter,
  ) {}

  /**
   * Writes the request by CAS. A cancel may have landed meanwhile: then the request is
   * marked canceling and the write retried once.
   */
  async writeCas(f: InFlight, build: () => LbRequestRecord): Promise<void> {
    try {
      await this.writer().write([setRequestOp(build(), f.version)]);
    } catch (err) {
      if (!(err instanceof ZkError && err.code === 'BAD_VERSION')) throw err;
      if (!(await this.adoptCancel(f))) throw err;
      await this.writer().write([setRequestOp(build(), f.version)]);
    }
    f.version += 1;
  }

  /**
   * SUCCESS: the request and `/lb/services/<id>` in one fenced multi. Answers 'canceling'
   * (nothing written) when a cancel landed on the request meanwhile: the caller reverts.
   */
  async commit(
    f: InFlight,
    stored: Versioned<LbServiceRecord> | undefined,
  ): Promise<'committed' | 'canceling'> {
    const record = toDoneRecord(withAgents(f), 'SUCCESS', 'applied on every agent', Date.now());
    const ops = [
      setRequestOp(record, f.version),
      ...commitServiceOps(f.serviceId, f.plan.next, stored?.version ?? null),
    ];
    try {
      await this.writer().write(ops);
      return 'committed';
    } catch (err) {
      if (!(err instanceof ZkError && err.path === requestPath(f.record.requestId))) throw err;
      if (!(await this.adoptCancel(f))) throw err;
      return 'canceling';
    }
  }

  /** Ends a request that never went in flight (or whose leader died) with `state`. */
  async finishStored(
    r: Versioned<LbRequestRecord>,
    state: LbRequestStateName,
    message: string,
  ): Promise<LbRequestRecord> {
    const record = toDoneRecord(r.value, state, message, Date.now());
    await this.writer().write([setRequestOp(record, r.version)]);
    return record;
  }

  /** Whether the stored request is CANCELING now; if so, `f` takes its version and state. */
  private async adoptCancel(f: InFlight): Promise<boolean> {
    const now = await this.store.getRequest(f.record.requestId);
    if (now?.value.state !== 'CANCELING') return false;
    f.version = now.version;
    f.canceling = true;
    f.record = { ...f.record, state: 'CANCELING' };
    return true;
  }
}
