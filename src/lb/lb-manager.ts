import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { detach } from '../runtime/index.js';
import { LbError } from './lb-error.js';
import {
  type Coordinator,
  type Unwatch,
  ZkError,
  watchChildren,
  zkPaths,
} from '../coordination/index.js';
import type { FencedWriter, LeaderService } from '../leader/index.js';
import type { LbGroupUpdate } from '../gen/thales/v1/LbGroupUpdate.js';
import type { LbServiceConfig } from '../gen/thales/v1/LbServiceConfig.js';
import { LbAgentRegistry } from './lb-agent-registry.js';
import { LbLeaderView } from './lb-leader-view.js';
import { LbRequestIntake } from './lb-request-intake.js';
import { makeLbManagerMetrics } from './lb-manager-metrics.js';
import { LbRequestFinisher } from './lb-request-finisher.js';
import { catchUpPushes, groupPushesByAgent } from './lb-push-batches.js';
import type { LbAgentAnswer, LbAgentSession } from './lb-agent-session.js';
import type { LbRequestRecord, LbRequestStateName, LbServiceRecord } from './lb-model.js';
import { toServiceConfig } from './lb-proto-mapping.js';
import { markLbStage } from './lb-stage-events.js';
import {
  type LbSnapshot,
  decideRound,
  describeFailure,
  planLbRequest,
  recordAnswer,
  recordTimeout,
  startRound,
  toDoneRecord,
} from './lb-request-state-machine.js';
import type { LbRequestStore, Versioned } from './lb-request-store.js';
import {
  type ApplyPlan,
  type InFlight,
  LbRequestWrites,
  startInFlight,
  withAgents,
} from './lb-request-writes.js';

/** Tunables of the manager. */
export interface LbManagerOptions {
  /** How long a round waits for every agent before it counts the silent ones as failed. */
  agentTimeoutMs: number;
  /** After a failover, how long requests wait for agents to reconnect before failing. */
  agentGraceMs: number;
  logger: Logger;
  registry: Registry;
}

/**
 * The leader-only load-balancer controller (DESIGN.md, "Load balancers"): drains stored
 * requests, one in flight per service (later ones wait behind it), plans each with the pure
 * state machine, pushes the changed services of every ready request to each agent in one
 * update (so an agent validates and reloads once per batch), and commits SUCCESS together
 * with `/lb/services/<id>` in one fenced multi — or reverts every agent and marks FAILED.
 */
export class LbManager implements LeaderService {
  readonly name = 'lb-manager';
  readonly agents: LbAgentRegistry;
  /** Outcomes and listeners for the scheduler's gateway (lb-scheduler-gateway.ts). */
  readonly view = new LbLeaderView();
  private leading = false;
  private caughtUp = false;
  private paused = false;
  private writer: FencedWriter | undefined;
  private establishedAt = 0;
  private services = new Map<string, Versioned<LbServiceRecord>>();
  private readonly intake: LbRequestIntake;
  private readonly writes: LbRequestWrites;
  private readonly inFlight = new Map<string, InFlight>();
  private unwatch: Unwatch | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private readonly log: Logger;
  private readonly finisher: LbRequestFinisher;

  constructor(
    private readonly zk: Coordinator,
    private readonly store: LbRequestStore,
    private readonly options: LbManagerOptions,
  ) {
    this.log = options.logger.child({ component: 'lb-manager' });
    this.agents = new LbAgentRegistry(zk, this.log, {
      servicesForGroup: (g) => this.servicesForGroup(g),
      onJoined: () => this.schedulePump(),
      writer: () => this.writer,
    });
    this.writes = new LbRequestWrites(store, () => this.requireWriter());
    const metrics = makeLbManagerMetrics(options.registry);
    this.finisher = new LbRequestFinisher(this.writes, metrics, this.view, this.log);
    this.intake = new LbRequestIntake(store, this.log, {
      isLeading: () => this.leading,
      onQueued: () => this.schedulePump(),
      // In flight under a dead leader: agents re-bootstrap from /lb/services, so nothing of
      // it remains applied.
      onCanceling: (r) =>
        this.finisher.finishStoredDetached(
          r,
          'CANCELED',
          'canceled (leader changed while in flight)',
        ),
    });
  }

  /** Whether this replica leads and serves the lb-agent stream. */
  get isLeading(): boolean {
    return this.leading;
  }

  async establishLeadership(_term: number, writer: FencedWriter): Promise<void> {
    this.writer = writer;
    // A leadership revoked while paused (disconnected, then expired) is never resumed: a new
    // one starts unpaused (Leadership pauses it again if the connection is down by then).
    this.paused = false;
    this.establishedAt = Date.now();
    await this.store.ensureDirs();
    this.services = await this.store.listServices();
    this.agents.setKnownGroups(await this.store.knownGroups());
    this.leading = true;
    this.unwatch = watchChildren(this.zk, zkPaths.lbRequestsDir, (names) => {
      const caughtUp = this.intake.onNames(names).then(() => {
        if (this.leading) this.caughtUp = true;
      });
      // A name not read is retried by the intake itself; anything else is logged here.
      detach(caughtUp, this.log, 'lb request intake');
    });
    this.graceTimer = setTimeout(() => this.schedulePump(), this.options.agentGraceMs + 10);
  }

  revokeLeadership(): void {
    this.leading = false;
    this.caughtUp = false;
    this.view.clear();
    this.writer = undefined;
    this.unwatch?.();
    clearTimeout(this.graceTimer);
    for (const f of this.inFlight.values()) clearTimeout(f.timer);
    this.inFlight.clear();
    this.intake.clear();
    this.services.clear();
    this.agents.closeAll('leadership lost');
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedulePump();
  }

  /** Leading, and every stored service and request has been read once. */
  get ready(): boolean {
    return this.leading && this.caughtUp;
  }

  /** A stored service (applied on every agent of its groups), when leading. */
  storedService(serviceId: string): LbServiceRecord | undefined {
    return this.services.get(serviceId)?.value;
  }

  /** Requests on the service not finished yet: in flight, then queued. */
  openRequests(serviceId: string): LbRequestRecord[] {
    const f = this.inFlight.get(serviceId);
    const queued = (this.intake.queues.get(serviceId) ?? []).map((q) => q.value);
    return f ? [f.record, ...queued] : queued;
  }

  /** Every service stored, in flight, queued or stuck. */
  serviceIds(): string[] {
    const ids = new Set([...this.services.keys(), ...this.inFlight.keys()]);
    for (const id of this.intake.queues.keys()) ids.add(id);
    for (const id of this.view.stuckServiceIds()) ids.add(id);
    return [...ids];
  }

  /** The configs of every stored service of `group` (an agent's bootstrap). */
  private servicesForGroup(group: string): LbServiceConfig[] {
    return [...this.services.entries()]
      .filter(([, s]) => s.value.service.groups.includes(group))
      .map(([id, s]) => toServiceConfig(id, s.value));
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts the head request of every service with nothing in flight. */
  private pump(): void {
    if (!this.leading || this.paused) return;
    const started: InFlight[] = [];
    for (const [serviceId, queue] of this.intake.queues) {
      while (!this.inFlight.has(serviceId) && queue.length > 0) {
        const head = queue[0] as Versioned<LbRequestRecord>;
        const plan = planLbRequest(head.value.request, this.snapshot(), Date.now());
        if (plan.kind === 'defer') break;
        queue.shift();
        if (plan.kind === 'noop') {
          this.finisher.finishStoredDetached(head, 'INVALID_REQUEST_NOOP', plan.message);
        } else if (plan.kind === 'fail') {
          this.finisher.finishStoredDetached(head, 'FAILED', plan.message);
        } else started.push(this.track(serviceId, head, plan));
      }
      if (queue.length === 0) this.intake.queues.delete(serviceId);
    }
    if (started.length > 0) detach(this.startApplies(started), this.log, 'start of lb applies');
  }

  private snapshot(): LbSnapshot {
    const inFlight = new Map<string, LbServiceRecord['service']>();
    for (const [id, f] of this.inFlight) if (f.plan.next) inFlight.set(id, f.plan.next.service);
    const services = new Map([...this.services].map(([id, s]) => [id, s.value]));
    return {
      services,
      inFlight,
      knownGroups: this.agents.knownGroups,
      agents: this.agents.joinedByGroup(),
      inAgentGracePeriod: Date.now() < this.establishedAt + this.options.agentGraceMs,
    };
  }

  private track(serviceId: string, head: Versioned<LbRequestRecord>, plan: ApplyPlan): InFlight {
    const f = startInFlight(serviceId, head, plan);
    this.inFlight.set(serviceId, f);
    return f;
  }

  /** Marks APPLY_SENT, then pushes every started request, batched per agent. */
  private async startApplies(list: InFlight[]): Promise<void> {
    const ready = (await Promise.all(list.map((f) => this.markApplySent(f)))).filter(
      (f): f is InFlight => f !== null,
    );
    for (const f of ready) {
      f.timer = setTimeout(() => this.onTimeout(f), this.options.agentTimeoutMs);
    }
    for (const b of groupPushesByAgent(ready)) this.pushTo(b.agentId, b.requests, b.update);
  }

  private pushTo(agentId: string, fs: InFlight[], update: Omit<LbGroupUpdate, 'nonce'>): void {
    const session: LbAgentSession | undefined = this.agents.get(agentId);
    if (!session) {
      for (const f of fs) this.answer(f, agentId, false, 'agent disconnected');
      return;
    }
    const { nonce, answer } = session.push(update);
    for (const f of fs) {
      f.nonces.set(agentId, nonce);
      markLbStage(f.record.requestId, `pushed:${agentId}`);
    }
    // An answer that never comes is the round's timeout (onTimeout); a rejection is only logged.
    detach(
      answer.then((ack) => this.onAck(agentId, nonce, ack, fs)),
      this.log,
      `lb push to ${agentId}`,
    );
  }

  private onAck(agentId: string, nonce: string, ack: LbAgentAnswer, fs: InFlight[]): void {
    for (const f of fs) {
      if (f.nonces.get(agentId) !== nonce || this.inFlight.get(f.serviceId) !== f) continue;
      markLbStage(f.record.requestId, `acked:${agentId}`);
      const result = ack.results.find((r) => r.serviceId === f.serviceId);
      const ok = result ? result.ok : ack.ok;
      this.answer(f, agentId, ok, (result?.error || ack.error) ?? '');
    }
  }

  private answer(f: InFlight, agentId: string, ok: boolean, error: string): void {
    f.round = recordAnswer(f.round, agentId, ok, error || undefined);
    detach(this.advance(f), this.log, 'lb request transition');
  }

  private onTimeout(f: InFlight): void {
    if (this.inFlight.get(f.serviceId) !== f) return;
    f.round = recordTimeout(f.round);
    detach(this.advance(f), this.log, 'lb request transition');
  }

  /** Carries out what the state machine decides once every agent has answered. */
  private async advance(f: InFlight): Promise<void> {
    if (f.busy || this.inFlight.get(f.serviceId) !== f) return;
    const decision = decideRound(f.round, f.canceling);
    if (decision === 'WAIT') return;
    f.busy = true;
    clearTimeout(f.timer);
    try {
      if (decision === 'COMMIT') await this.commit(f);
      else if (decision === 'REVERT') await this.revert(f);
      else await this.finish(f, f.canceling ? 'CANCELED' : 'FAILED', f.failure ?? 'failed');
    } catch (err) {
      this.log.error({ err, requestId: f.record.requestId }, 'lb request transition failed');
      this.drop(f);
      this.intake.retryLater(f.record.requestId);
    } finally {
      f.busy = false;
    }
  }

  /** SUCCESS: the request and `/lb/services/<id>` in one fenced multi. */
  private async commit(f: InFlight): Promise<void> {
    const stored = this.services.get(f.serviceId);
    if ((await this.writes.commit(f, stored)) === 'canceling') {
      await this.revert(f);
      return;
    }
    markLbStage(f.record.requestId, 'committed');
    if (f.plan.next) {
      this.services.set(f.serviceId, {
        value: f.plan.next,
        version: stored ? stored.version + 1 : 0,
      });
    } else this.services.delete(f.serviceId);
    this.done(f, 'SUCCESS');
  }

  /** Pushes the previous state of the service to every agent of its groups. */
  private async revert(f: InFlight): Promise<void> {
    f.failure = f.canceling ? 'canceled; reverted' : describeFailure(f.round);
    const targets = f.plan.targets;
    f.round = startRound('REVERT', targets, f.round.agents);
    f.record = { ...f.record, step: 'REVERTING', message: f.failure, agents: [...f.round.agents] };
    await this.writeRecord(f);
    f.nonces.clear();
    for (const t of targets) {
      const config = toServiceConfig(f.serviceId, f.plan.previous);
      this.pushTo(t.agentId, [f], {
        full: false,
        services: [config],
        noValidate: false,
        noReload: false,
      });
    }
    f.timer = setTimeout(() => this.onTimeout(f), this.options.agentTimeoutMs);
  }

  private async finish(f: InFlight, state: LbRequestStateName, message: string): Promise<void> {
    const final = (): LbRequestStateName => (f.canceling ? 'CANCELED' : state);
    await this.writes.writeCas(f, () => toDoneRecord(withAgents(f), final(), message, Date.now()));
    this.done(f, final());
  }

  private async markApplySent(f: InFlight): Promise<InFlight | null> {
    try {
      markLbStage(f.record.requestId, 'planned');
      await this.writeRecord(f);
      markLbStage(f.record.requestId, 'applySent');
      return f;
    } catch (err) {
      const now = await this.store.getRequest(f.record.requestId).catch(() => null);
      this.drop(f);
      if (now?.value.state === 'CANCELING') {
        await this.finisher.finishStored(now, 'CANCELED', 'canceled before it was applied');
      } else if (now?.value.state === 'WAITING') {
        this.intake.enqueue(now);
      } else if (!(err instanceof ZkError && err.code === 'BAD_VERSION')) {
        this.log.error({ err, requestId: f.record.requestId }, 'cannot start lb request');
      }
      this.schedulePump();
      return null;
    }
  }

  private async writeRecord(f: InFlight): Promise<void> {
    await this.writes.writeCas(f, () => ({ ...f.record, updatedAt: Date.now() }));
  }

  private done(f: InFlight, state: LbRequestStateName): void {
    this.drop(f);
    this.catchUp(f);
    this.finisher.finished(f, state);
  }

  private drop(f: InFlight): void {
    clearTimeout(f.timer);
    if (this.inFlight.get(f.serviceId) === f) this.inFlight.delete(f.serviceId);
    this.schedulePump();
  }

  /** Agents of the service's groups that were not in the round get the stored state. */
  private catchUp(f: InFlight): void {
    const stored = this.services.get(f.serviceId)?.value ?? null;
    for (const p of catchUpPushes(f, stored, this.agents.all())) p.session.push(p.update);
  }

  private requireWriter(): FencedWriter {
    if (!this.writer) throw new LbError('NOT_LEADER', 'not the leader');
    return this.writer;
  }
}
