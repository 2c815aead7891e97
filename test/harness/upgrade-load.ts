/**
 * The load an upgrade must not disturb: reads on every replica, writes (create, scale,
 * deploy) retried on retryable errors, requests through nginx to the demo service, and the
 * leader's term as the reads of /api/state show it. Every operation is recorded; `report()`
 * says what failed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type ProbeResult, jsonOf, probe } from './http-probe.js';

/** Where the load goes. */
export interface LoadTargets {
  /** The replicas' base URLs. */
  replicas: string[];
  /** nginx's URL of the demo service (e.g. http://127.0.0.1:8080/demo/). */
  lbUrl: string;
  /** The demo service's request id and its task ids (what nginx and the reads must show). */
  demoRequestId: string;
  demoTaskIds: string[];
  /** Prefix of the request ids the writes create (unique per run). */
  writePrefix: string;
}

/** One latency figure set. */
export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Everything the load saw. */
export interface LoadReport {
  /** `rerouted`: answered by another replica after a refused or reset connection. */
  reads: { ok: number; failed: number; rerouted: number; failures: string[] };
  readsByReplica: Record<string, { ok: number; failed: number; refused: number; reset: number }>;
  writes: { acked: number; failed: number; retries: number; failures: string[] };
  lb: { ok: number; failed: number; failures: string[]; tasksSeen: string[] };
  leader: { firstTerm: number; lastTerm: number; changes: number; sequence: string[] };
  /** Read latency by phase (see {@link UpgradeLoad.phase}). */
  readLatency: Record<string, Latency>;
}

/** An acknowledged write, to be found on every replica at the end. */
export type AckedWrite =
  | { kind: 'create'; requestId: string }
  | { kind: 'scale'; requestId: string; instances: number }
  | { kind: 'deploy'; requestId: string; deployId: string };

const MAX_FAILURES_KEPT = 30;
const WRITE_DEADLINE_MS = 60_000;

/** The load generator and its observers; `start()`, `phase()`, `stop()`, `report()`. */
export class UpgradeLoad {
  private running = false;
  private loops: Promise<void>[] = [];
  private currentPhase = 'before';
  private readonly samples = new Map<string, number[]>();
  private readonly reads = { ok: 0, failed: 0, rerouted: 0, failures: [] as string[] };
  private readonly byReplica: LoadReport['readsByReplica'] = {};
  private readonly writes = { acked: 0, failed: 0, retries: 0, failures: [] as string[] };
  private readonly lb = { ok: 0, failed: 0, failures: [] as string[], seen: new Set<string>() };
  private readonly leader = { firstTerm: 0, lastTerm: 0, sequence: [] as string[] };
  private readonly startedAt = Date.now();
  /** Every write the cluster acknowledged, in order. */
  readonly acked: AckedWrite[] = [];
  private rr = 0;

  constructor(private readonly t: LoadTargets) {
    for (const r of t.replicas) this.byReplica[r] = { ok: 0, failed: 0, refused: 0, reset: 0 };
  }

  /** Starts every loop. */
  start(): void {
    this.running = true;
    this.loops = [
      ...this.t.replicas.map((_, i) => this.readLoop(i)),
      this.writeLoop(),
      this.lbLoop(),
    ];
  }

  /** Names the phase the next read latencies belong to ('before', 'during', 'after'…). */
  phase(name: string): void {
    this.currentPhase = name;
  }

  /** Reads and nginx requests done so far (a test waits on these, never on time). */
  get progress(): { reads: number; lb: number; writes: number } {
    return {
      reads: this.reads.ok + this.reads.failed,
      lb: this.lb.ok + this.lb.failed,
      writes: this.writes.acked,
    };
  }

  /** Stops every loop once its operation in flight has finished. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** What happened, so far. */
  report(): LoadReport {
    const readLatency: Record<string, Latency> = {};
    for (const [phase, list] of this.samples) readLatency[phase] = latency(list);
    return {
      reads: { ...this.reads },
      readsByReplica: structuredClone(this.byReplica),
      writes: { ...this.writes },
      lb: {
        ok: this.lb.ok,
        failed: this.lb.failed,
        failures: this.lb.failures,
        tasksSeen: [...this.lb.seen].sort(),
      },
      leader: {
        ...this.leader,
        changes: this.leader.lastTerm - this.leader.firstTerm,
      },
      readLatency,
    };
  }

  // Reads: each loop reads "its" replica. A connection refused (nothing listening: the replica
  // is restarting) or reset before any answer (its listener closed with the connection in its
  // accept queue) sends the read to the next replica, as the thales CLI does. Anything else
  // that is not a correct answer — an error status, a wrong body, a timeout, a reset
  // mid-answer — is a failed read.
  private async readLoop(index: number): Promise<void> {
    const paths = [
      '/api/state',
      `/api/requests/request/${this.t.demoRequestId}`,
      '/api/tasks/active',
    ];
    for (let n = 0; this.running; n++) {
      const p = paths[n % paths.length] as string;
      await this.readOnce(index, p);
      await sleep(100);
    }
  }

  private async readOnce(index: number, p: string): Promise<void> {
    const replicas = this.t.replicas;
    for (let hop = 0; hop < replicas.length; hop++) {
      const base = replicas[(index + hop) % replicas.length] as string;
      const r = await probe(`${base}${p}`, { timeoutMs: 10_000 });
      const stats = this.byReplica[base] as LoadReport['readsByReplica'][string];
      if (r.kind === 'refused' || r.kind === 'reset') {
        stats[r.kind]++;
        continue;
      }
      const wrong = this.checkRead(p, r);
      if (wrong) {
        stats.failed++;
        this.reads.failed++;
        this.keep(this.reads.failures, `${base}${p}: ${wrong}`);
      } else {
        stats.ok++;
        this.reads.ok++;
        if (hop > 0) this.reads.rerouted++;
        this.sample(r.ms);
      }
      return;
    }
    this.reads.failed++;
    this.keep(this.reads.failures, `${p}: every replica refused or reset the connection`);
  }

  /** Why an answer is not a correct read, or undefined if it is. */
  private checkRead(p: string, r: ProbeResult): string | undefined {
    if (r.kind !== 'answered') return r.error;
    if (r.status !== 200) return `${r.status} ${r.body.slice(0, 300)}`;
    const body = jsonOf<unknown>(r);
    if (body === undefined) return `not JSON: ${r.body.slice(0, 200)}`;
    if (p === '/api/state') {
      const state = body as { replicaId?: string; leader?: { replicaId: string; term: number } };
      if (state.leader) this.observeLeader(state.leader);
      return state.replicaId ? undefined : 'a state without replicaId';
    }
    if (p === '/api/tasks/active') {
      const ids = new Set((body as { id?: string }[]).map((t) => t.id));
      const missing = this.t.demoTaskIds.filter((id) => !ids.has(id));
      return missing.length ? `active tasks miss ${missing.join(', ')}` : undefined;
    }
    const id = (body as { request?: { id?: string } }).request?.id;
    return id === this.t.demoRequestId ? undefined : `request ${String(id)}`;
  }

  // Writes, one at a time: create a request, scale one created earlier, deploy to a new one.
  // None of them launches a task (instances 0 for deployed requests, no deploy for scaled ones).
  private async writeLoop(): Promise<void> {
    const prefix = this.t.writePrefix;
    for (let n = 0; this.running; n++) {
      const created = `${prefix}-c-${Math.floor(n / 3)}`;
      switch (n % 3) {
        case 0:
          if (
            await this.write('POST', '/api/requests', {
              id: created,
              requestType: 'SERVICE',
              instances: 0,
            })
          )
            this.acked.push({ kind: 'create', requestId: created });
          break;
        case 1: {
          const instances = (n % 5) + 1;
          const body = { instances };
          if (await this.write('PUT', `/api/requests/request/${created}/scale`, body))
            this.acked.push({ kind: 'scale', requestId: created, instances });
          break;
        }
        default: {
          const requestId = `${prefix}-d-${Math.floor(n / 3)}`;
          const deployId = `d${n}`;
          const request = { id: requestId, requestType: 'SERVICE', instances: 0 };
          if (!(await this.write('POST', '/api/requests', request))) break;
          this.acked.push({ kind: 'create', requestId });
          const deploy = {
            deploy: {
              requestId,
              id: deployId,
              command: '/bin/true',
              resources: { cpus: 0.01, memoryMb: 1 },
            },
          };
          if (await this.write('POST', '/api/deploys', deploy, true))
            this.acked.push({ kind: 'deploy', requestId, deployId });
        }
      }
      await sleep(250);
    }
  }

  /**
   * Sends one write until a replica acknowledges it, retrying what is retryable: a refused
   * connection (not delivered), a reset or a timeout (maybe delivered: retried, the writes are
   * idempotent or say ALREADY_EXISTS), 503 and 409 CONFLICT. Anything else fails the write.
   */
  private async write(
    method: string,
    p: string,
    body: unknown,
    alreadyExistsIsOurs = false,
  ): Promise<boolean> {
    const deadline = Date.now() + WRITE_DEADLINE_MS;
    let ambiguous = false;
    let last = '';
    while (Date.now() < deadline) {
      const base = this.t.replicas[this.rr++ % this.t.replicas.length] as string;
      const r = await probe(`${base}${p}`, { method, body, timeoutMs: 10_000 });
      if (r.kind === 'answered' && r.status === 200) {
        this.writes.acked++;
        return true;
      }
      const code = jsonOf<{ error?: { code?: string } }>(r)?.error?.code;
      if (r.kind === 'answered' && code === 'ALREADY_EXISTS' && alreadyExistsIsOurs && ambiguous) {
        this.writes.acked++; // an earlier attempt landed before its answer was lost
        return true;
      }
      last = r.kind === 'answered' ? `${r.status} ${r.body.slice(0, 300)}` : r.error;
      const retryable =
        r.kind !== 'answered' || r.status === 503 || (r.status === 409 && code === 'CONFLICT');
      if (!retryable) break;
      // A reset, a timeout or a 503 may come after the write landed.
      if (r.kind === 'failed' || r.kind === 'reset' || (r.kind === 'answered' && r.status === 503))
        ambiguous = true;
      this.writes.retries++;
      if (r.kind !== 'refused') await sleep(200);
    }
    this.writes.failed++;
    this.keep(this.writes.failures, `${method} ${p}: ${last}`);
    return false;
  }

  // Through nginx: every request must reach one of the demo's tasks.
  private async lbLoop(): Promise<void> {
    while (this.running) {
      const r = await probe(this.t.lbUrl, { timeoutMs: 10_000 });
      const taskId = jsonOf<{ taskId?: string }>(r)?.taskId;
      if (
        r.kind === 'answered' &&
        r.status === 200 &&
        taskId &&
        this.t.demoTaskIds.includes(taskId)
      ) {
        this.lb.ok++;
        this.lb.seen.add(taskId);
      } else {
        this.lb.failed++;
        const what = r.kind === 'answered' ? `${r.status} ${r.body.slice(0, 200)}` : r.error;
        this.keep(this.lb.failures, `${this.t.lbUrl}: ${what}`);
      }
      await sleep(80);
    }
  }

  // The leader's term as every replica's /api/state shows it: each new leadership increments it.
  private observeLeader(leader: { replicaId: string; term: number }): void {
    if (leader.term <= 0) return;
    if (this.leader.firstTerm === 0) this.leader.firstTerm = leader.term;
    if (leader.term > this.leader.lastTerm) {
      this.leader.lastTerm = leader.term;
      this.leader.sequence.push(`${leader.replicaId}@${leader.term}`);
    }
  }

  private sample(ms: number): void {
    let list = this.samples.get(this.currentPhase);
    if (!list) this.samples.set(this.currentPhase, (list = []));
    list.push(ms);
  }

  private keep(list: string[], line: string): void {
    if (list.length < MAX_FAILURES_KEPT) {
      list.push(`+${((Date.now() - this.startedAt) / 1000).toFixed(1)}s ${line}`);
    }
  }
}

/** Count, median, 99th percentile and maximum of `values` (ms, rounded to 0.1). */
export function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted.length
      ? Math.round(
          (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number) * 10,
        ) / 10
      : 0;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

/**
 * Every acknowledged write as each replica shows it now: the last acknowledged instance
 * count of every scaled request, every created request, every deploy (pending or active).
 * Returns what is missing or wrong, per replica.
 */
export async function missingWrites(replicas: string[], acked: AckedWrite[]): Promise<string[]> {
  const problems: string[] = [];
  const lastScale = new Map<string, number>();
  for (const w of acked) if (w.kind === 'scale') lastScale.set(w.requestId, w.instances);
  for (const base of replicas) {
    const r = await probe(`${base}/api/requests`, { timeoutMs: 30_000 });
    const list = jsonOf<
      {
        request: { id: string; instances: number };
        activeDeploy?: { id: string };
        pendingDeploy?: { id: string };
      }[]
    >(r);
    if (!list) {
      problems.push(`${base}: GET /api/requests: ${r.kind === 'answered' ? r.status : r.error}`);
      continue;
    }
    const byId = new Map(list.map((p) => [p.request.id, p]));
    for (const w of acked) {
      const p = byId.get(w.requestId);
      if (!p) problems.push(`${base}: request ${w.requestId} (${w.kind}) is missing`);
      else if (
        w.kind === 'deploy' &&
        ![p.activeDeploy?.id, p.pendingDeploy?.id].includes(w.deployId)
      )
        problems.push(`${base}: deploy ${w.deployId} of ${w.requestId} is missing`);
    }
    for (const [id, instances] of lastScale) {
      const got = byId.get(id)?.request.instances;
      if (got !== instances)
        problems.push(`${base}: ${id} has ${got} instances, acked ${instances}`);
    }
  }
  return problems;
}
